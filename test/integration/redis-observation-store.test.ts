/**
 * RedisObservationStore against a real Redis, and the in-process caches of both stores: a write
 * of this instance is seen by it at once, another instance's write within the cache TTL
 * (time is a test clock: no sleeps).
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Registration } from '../../src/server/registration/registration';
import type { Observation } from '../../src/server/observation/observation-store';
import { StoreError } from '../../src/common/store-errors';
import { RedisKeys } from '../../src/store/keys';
import { createRedisStores, type RedisStores } from '../../src/store';
import { describeRedisTargets } from '../support/redis-targets';

const prefix = `t-${randomUUID()}`;
const keys = new RedisKeys(prefix);
const TTL = 2000;

interface Instance extends RedisStores {
  advance(ms: number): void;
}

describeRedisTargets(
  'RedisObservationStore',
  (target) => {
    function instance(name: string): Instance {
      const redis = target().client({ maxRetriesPerRequest: 2 });
      let now = 1_000_000;
      const stores = createRedisStores({
        redis,
        keyPrefix: prefix,
        instanceId: name,
        cacheTtlMs: TTL,
        cacheMax: 1000,
        clock: () => now,
      });
      return { ...stores, advance: (ms) => (now += ms) };
    }

    function registration(over: Partial<Registration> = {}): Registration {
      const now = Date.now();
      return {
        id: randomBytes(8).toString('base64url'),
        endpoint: `dev-${randomUUID()}`,
        address: '192.0.2.20',
        port: 30000 + Math.floor(Math.random() * 30000),
        lifetime: 300,
        lwm2mVersion: '1.1',
        binding: 'U',
        queueMode: false,
        rootPath: '/',
        objects: [{ objectId: 3, instances: [0] }],
        objectLinks: '</3/0>',
        registeredAt: now,
        lastUpdate: now,
        expiresAt: now + 300_000,
        ...over,
      };
    }

    function observation(reg: Registration, over: Partial<Observation> = {}): Observation {
      return {
        token: randomBytes(8).toString('hex'),
        registrationId: reg.id,
        endpoint: reg.endpoint,
        kind: 'single',
        paths: ['/3/0/9'],
        contentFormat: 11542,
        createdAt: Date.now(),
        ...over,
      };
    }

    describe('RedisObservationStore', () => {
      it('adds, finds by token from another instance, lists and removes', async () => {
        const a = instance('a');
        const b = instance('b');
        const reg = registration();
        await a.registrations.register(reg);
        const single = observation(reg);
        const composite = observation(reg, { kind: 'composite', paths: ['/3/0/9', '/3303/0'], contentFormat: 112 });
        const plain = observation(reg, { contentFormat: undefined });
        delete (plain as { contentFormat?: number }).contentFormat;
        for (const o of [single, composite, plain]) await a.observations.add(o);
        expect(await b.observations.getByToken(single.token)).toEqual(single);
        expect(await b.observations.getByToken(composite.token)).toEqual(composite);
        expect(await b.observations.getByToken(plain.token)).toEqual(plain);
        expect(await b.observations.getByToken('00')).toBeUndefined();
        const listed = await b.observations.listByRegistration(reg.id);
        expect(listed.sort((x, y) => x.token.localeCompare(y.token))).toEqual(
          [single, composite, plain].sort((x, y) => x.token.localeCompare(y.token)),
        );
        expect(await b.observations.remove(single.token)).toEqual(single);
        expect(await b.observations.remove(single.token)).toBeUndefined();
        expect(await b.observations.getByToken(single.token)).toBeUndefined();
        expect((await a.observations.listByRegistration(reg.id)).length).toBe(2);
        expect(await a.observations.removeByRegistration(reg.id)).toHaveLength(2);
        expect(await a.observations.listByRegistration(reg.id)).toEqual([]);
        expect(
          await target().exists(keys.observationByToken(composite.token), keys.observationsByEndpoint(reg.endpoint)),
        ).toBe(0);
        expect(await b.registrations.getById(reg.id)).toEqual(reg);
      });

      it('keeps the observations of a replaced registration for removeByRegistration, apart from the new ones', async () => {
        const a = instance('a');
        const b = instance('b');
        const first = registration();
        await a.registrations.register(first);
        const old = [observation(first), observation(first)];
        for (const o of old) await a.observations.add(o);
        const second = registration({ endpoint: first.endpoint });
        const { replaced } = await b.registrations.register(second);
        expect(replaced?.id).toBe(first.id);
        const fresh = observation(second);
        await b.observations.add(fresh);
        const removed = await b.observations.removeByRegistration(first.id);
        expect(removed.map((o) => o.token).sort()).toEqual(old.map((o) => o.token).sort());
        expect(await b.observations.listByRegistration(second.id)).toEqual([fresh]);
        expect(await instance('c').observations.getByToken(old[0]!.token)).toBeUndefined();
        // The retired id index was only kept for this cleanup.
        expect(await target().admin().exists(keys.endpointByRegistrationId(first.id))).toBe(0);
      });

      it('removes the observations of a de-registered registration', async () => {
        const a = instance('a');
        const reg = registration();
        await a.registrations.register(reg);
        const o = observation(reg);
        await a.observations.add(o);
        await instance('b').registrations.deregister(reg.id);
        expect(await instance('c').observations.removeByRegistration(reg.id)).toEqual([o]);
        expect(await target().admin().exists(keys.observationsByEndpoint(reg.endpoint))).toBe(0);
      });

      it('refuses an observation of a registration that is no longer current', async () => {
        const a = instance('a');
        const reg = registration();
        await a.registrations.register(reg);
        await a.registrations.register(registration({ endpoint: reg.endpoint }));
        await expect(a.observations.add(observation(reg))).rejects.toThrow(StoreError);
        await expect(a.observations.add(observation(registration()))).rejects.toThrow(/not current/);
      });
    });

    describe('in-process caches', () => {
      it('shows an instance its own writes at once', async () => {
        const a = instance('a');
        const reg = registration();
        await a.registrations.register(reg);
        expect((await a.registrations.getByEndpoint(reg.endpoint))?.port).toBe(reg.port);
        await a.registrations.update(reg.id, { port: 1234 }, Date.now());
        expect((await a.registrations.getByEndpoint(reg.endpoint))?.port).toBe(1234);
        expect((await a.registrations.getByAddress(reg.address, 1234))?.id).toBe(reg.id);
        const o = observation(reg);
        await a.observations.add(o);
        expect(await a.observations.getByToken(o.token)).toEqual(o);
        await a.observations.remove(o.token);
        expect(await a.observations.getByToken(o.token)).toBeUndefined();
        await a.registrations.deregister(reg.id);
        expect(await a.registrations.getByEndpoint(reg.endpoint)).toBeUndefined();
        expect(await a.registrations.getById(reg.id)).toBeUndefined();
      });

      it("shows an instance another instance's writes within the cache TTL (without invalidation messages)", async () => {
        const a = instance('a');
        const b = instance('b');
        const reg = registration();
        await a.registrations.register(reg);
        const o = observation(reg);
        await a.observations.add(o);
        expect((await b.registrations.getByEndpoint(reg.endpoint))?.port).toBe(reg.port);
        expect(await b.observations.getByToken(o.token)).toEqual(o);
        await a.registrations.update(reg.id, { port: 4321 }, Date.now());
        await a.observations.remove(o.token);
        // No invalidation subscriber here: the TTL alone bounds what b serves. Each copy lives 80 to
        // 100 % of the TTL (jittered), so before 80 % b may still serve its copies...
        b.advance(TTL * 0.8 - 1);
        expect((await b.registrations.getByEndpoint(reg.endpoint))?.port).toBe(reg.port);
        expect(await b.observations.getByToken(o.token)).toEqual(o);
        // ...and from the TTL on, never.
        b.advance(TTL * 0.2 + 1);
        expect((await b.registrations.getByEndpoint(reg.endpoint))?.port).toBe(4321);
        expect(await b.observations.getByToken(o.token)).toBeUndefined();
      });

      it('finds a device that re-registered through another instance at once, despite a cached copy', async () => {
        const a = instance('a');
        const b = instance('b');
        const first = registration();
        await a.registrations.register(first);
        expect((await a.registrations.getByEndpoint(first.endpoint))?.id).toBe(first.id);
        const second = registration({ endpoint: first.endpoint, port: first.port + 1 });
        await b.registrations.register(second);
        expect(await a.registrations.getById(second.id)).toEqual(second);
        expect(await a.registrations.getByAddress(second.address, second.port)).toEqual(second);
      });
    });
  },
  [`${prefix}:*`],
);
