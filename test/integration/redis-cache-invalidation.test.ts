/**
 * Cache coherence across instances through a real Redis: each instance's writes are announced on
 * the invalidation channel and the other instances drop their copies at once, long before the
 * cache TTL (a test clock that never advances: only the message can make the change visible).
 * While the subscription is lost the record caches are off; they come back once it is restored.
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Registration } from '../../src/server/registration/registration';
import type { Observation } from '../../src/server/observation/observation-store';
import { CacheInvalidation, createRedisStores, type RedisClient, type RedisStores } from '../../src/store';
import { duplicateRedisClient } from '../../src/wiring/redis-connection';
import { RedisKeys } from '../../src/store/keys';
import { describeRedisTargets } from '../support/redis-targets';

const prefix = `t-${randomUUID()}`;
const channel = new RedisKeys(prefix).cacheInvalidationChannel();
const closers: Array<() => Promise<void>> = [];
const HOUR = 3_600_000;

interface Instance extends RedisStores {
  readonly invalidation: CacheInvalidation;
  readonly subscriber: RedisClient;
}

describeRedisTargets(
  'cache invalidation',
  (target) => {
    async function instance(name: string, onRegistrationWrite?: (endpoint: string) => void): Promise<Instance> {
      const redis = target().client({ maxRetriesPerRequest: 2 });
      const stores = createRedisStores({
        redis,
        keyPrefix: prefix,
        instanceId: name,
        cacheTtlMs: HOUR,
        cacheMax: 1000,
        clock: () => 1_000_000,
      });
      const subscriber = duplicateRedisClient(redis);
      const invalidation = new CacheInvalidation({
        subscriber,
        channel,
        cache: stores.cache,
        instanceId: name,
        stats: stores.stats,
        ...(onRegistrationWrite !== undefined ? { onRegistrationWrite } : {}),
      });
      closers.push(() => invalidation.close());
      await until(() => invalidation.coherent, `${name} subscribed to ${channel}`);
      return { ...stores, invalidation, subscriber };
    }

    async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    function registration(over: Partial<Registration> = {}): Registration {
      const now = Date.now();
      return {
        id: randomBytes(8).toString('base64url'),
        endpoint: `dev-${randomUUID()}`,
        address: '192.0.2.30',
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

    function observation(reg: Registration): Observation {
      return {
        token: randomBytes(8).toString('hex'),
        registrationId: reg.id,
        endpoint: reg.endpoint,
        kind: 'single',
        paths: ['/3/0/9'],
        contentFormat: 11542,
        createdAt: Date.now(),
      };
    }

    afterAll(async () => {
      await Promise.all(closers.splice(0).map((c) => c()));
    });

    describe('cache invalidation across instances', () => {
      it('tells the other instances when a device is seen by a new instance, and only then', async () => {
        const heardByA: string[] = [];
        const a = await instance('own-a', (endpoint) => heardByA.push(endpoint));
        const b = await instance('own-b');
        const reg = registration();
        await a.registrations.register(reg);
        await until(() => b.stats.invalidationsApplied === 1, "b hears of a's Register");
        expect(await a.registrations.markSeen(reg.endpoint, 1)).toBe(true);
        const applied = b.stats.invalidationsApplied;
        expect(await b.registrations.markSeen(reg.endpoint, 2)).toBe(true);
        await until(() => heardByA.includes(reg.endpoint), 'a hears that b sees the device now');
        // Seen again by the same instance: no owner change, nothing announced.
        expect(await a.registrations.markSeen(reg.endpoint, 3)).toBe(true);
        expect(await a.registrations.markSeen(reg.endpoint, 4)).toBe(true);
        await until(() => b.stats.invalidationsApplied === applied + 1, 'b hears that a has it back (once)');
        await new Promise((r) => setTimeout(r, 100));
        expect(b.stats.invalidationsApplied).toBe(applied + 1);
        expect(heardByA.filter((e) => e === reg.endpoint)).toHaveLength(1);
        await a.registrations.deregister(reg.id);
      });

      it("drops another instance's cached registration as soon as it is updated or de-registered", async () => {
        const a = await instance('a');
        const b = await instance('b');
        const reg = registration();
        await a.registrations.register(reg);
        await until(() => b.stats.invalidationsApplied === 1, "b hears of a's Register");
        expect((await b.registrations.getByEndpoint(reg.endpoint))?.lifetime).toBe(300);
        const commands = b.stats.commands;
        expect((await b.registrations.getByEndpoint(reg.endpoint))?.lifetime).toBe(300);
        expect(b.stats.commands).toBe(commands); // served from b's cache

        await a.registrations.update(reg.id, { lifetime: 600 }, Date.now());
        await until(
          async () => (await b.registrations.getByEndpoint(reg.endpoint))?.lifetime === 600,
          'b sees the new lifetime',
        );
        expect(b.stats.invalidationsApplied).toBe(2);

        await a.registrations.deregister(reg.id);
        await until(async () => (await b.registrations.getById(reg.id)) === undefined, 'b sees the de-registration');
      });

      it("stops matching another instance's removed observation at once", async () => {
        const a = await instance('a2');
        const b = await instance('b2');
        const reg = registration();
        await a.registrations.register(reg);
        const obs = observation(reg);
        await a.observations.add(obs);
        expect((await b.observations.getByToken(obs.token))?.paths).toEqual(['/3/0/9']);
        await a.observations.remove(obs.token);
        await until(
          async () => (await b.observations.getByToken(obs.token)) === undefined,
          "b stops matching the removed observation's token",
        );
      });

      it('bypasses the record caches while the subscription is lost and restores them once it is back', async () => {
        const a = await instance('a3');
        const b = await instance('b3');
        const reg = registration();
        await a.registrations.register(reg);
        await b.registrations.getByEndpoint(reg.endpoint);

        b.subscriber.disconnect(true); // drops the connection; ioredis reconnects
        await until(() => !b.invalidation.coherent, 'b notices the lost subscription');
        expect(b.stats.cacheCoherent).toBe(false);
        expect(b.stats.cacheSuspensions).toBe(1);
        const before = b.stats.commands;
        await b.registrations.getByEndpoint(reg.endpoint);
        await b.registrations.getByEndpoint(reg.endpoint);
        expect(b.stats.commands).toBe(before + 2); // not cached while incoherent

        await until(() => b.invalidation.coherent, 'b subscribes again');
        expect(b.stats.cacheCoherent).toBe(true);
        await b.registrations.getByEndpoint(reg.endpoint);
        const cached = b.stats.commands;
        await b.registrations.getByEndpoint(reg.endpoint);
        expect(b.stats.commands).toBe(cached);
        await a.registrations.update(reg.id, { lifetime: 900 }, Date.now());
        await until(
          async () => (await b.registrations.getByEndpoint(reg.endpoint))?.lifetime === 900,
          'b hears of the update after re-subscribing',
        );
      });

      it('counts and ignores unreadable messages, and skips its own', async () => {
        const a = await instance('a4');
        const malformed: string[] = [];
        const other = target().client();
        const sub = duplicateRedisClient(a.subscriber);
        const c = new CacheInvalidation({
          subscriber: sub,
          channel,
          cache: a.cache,
          instanceId: 'a4',
          stats: a.stats,
          onMalformed: (m) => malformed.push(m),
        });
        closers.push(() => c.close());
        await until(() => c.coherent, 'second subscriber');
        const applied = a.stats.invalidationsApplied;
        await other.publish(channel, 'not json');
        await other.publish(channel, JSON.stringify(['x', 'b', 'k']));
        await other.publish(channel, JSON.stringify(['r', 'a4', 'own-write']));
        await other.publish(channel, 'end'); // messages arrive in order: once this is seen, so was the one before
        await until(
          () => a.stats.invalidationsMalformed === 6,
          'three malformed messages on each of the two subscribers',
        );
        expect(malformed).toEqual(['not json', '["x","b","k"]', 'end']);
        expect(a.stats.invalidationsApplied).toBe(applied);
      });
    });
  },
  [`${prefix}:*`],
);
