/**
 * RedisRegistrationStore against a real Redis: every field round-trips, the lookups by
 * endpoint, id and address, replacement, Update moving the address index, De-register, and the
 * refusal of an Update with a stale id.
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Registration } from '../../src/server/registration/registration';
import { RedisKeys } from '../../src/store/keys';
import { createRedisStores, RedisRegistrationStore, RedisStats } from '../../src/store';
import { describeRedisTargets } from '../support/redis-targets';

const prefix = `t-${randomUUID()}`;
const keys = new RedisKeys(prefix);

describeRedisTargets(
  'RedisRegistrationStore',
  (target) => {
    const client = () => target().client({ maxRetriesPerRequest: 2 });

    function store(cacheTtlMs = 2000, stats = new RedisStats()): RedisRegistrationStore {
      return new RedisRegistrationStore({
        redis: client(),
        keyPrefix: prefix,
        instanceId: 'bridge-a',
        cacheTtlMs,
        cacheMax: 1000,
        stats,
      });
    }

    function registration(over: Partial<Registration> = {}): Registration {
      const now = Date.now();
      return {
        id: randomBytes(8).toString('base64url'),
        endpoint: `urn:dev:${randomUUID()}`,
        address: '192.0.2.10',
        port: 40000 + Math.floor(Math.random() * 20000),
        lifetime: 300,
        lwm2mVersion: '1.1',
        binding: 'UQ',
        queueMode: true,
        smsNumber: '+4930123456',
        rootPath: '/lwm2m',
        supportedContentFormats: [11543, 112],
        objects: [
          { objectId: 1, version: '1.1', instances: [0] },
          { objectId: 3, instances: [0] },
          { objectId: 3303, version: '1.1', instances: [0, 1] },
        ],
        objectLinks:
          '</lwm2m>;rt="oma.lwm2m";ct="11543 112",</lwm2m/1>;ver=1.1,</lwm2m/1/0>,</lwm2m/3/0>,</lwm2m/3303/0>,</lwm2m/3303/1>',
        registeredAt: now,
        lastUpdate: now,
        expiresAt: now + 300_000,
        ...over,
      };
    }

    describe('RedisRegistrationStore', () => {
      it('round-trips every field, through another instance with an empty cache', async () => {
        const a = store();
        const b = store();
        const reg = registration({ address: '2001:db8::7', lwm2mVersion: '1.2' });
        expect(await a.register(reg)).toEqual({});
        expect(await b.getByEndpoint(reg.endpoint)).toEqual(reg);
        const minimal = registration({
          lwm2mVersion: '1.0',
          binding: 'U',
          queueMode: false,
          objects: [],
          objectLinks: '',
        });
        const { smsNumber: _s, supportedContentFormats: _c, ...bare } = minimal;
        await a.register(bare);
        expect(await b.getByEndpoint(bare.endpoint)).toEqual(bare);
      });

      it('finds a registration by endpoint, id and address', async () => {
        const a = store();
        const b = store();
        const reg = registration();
        await a.register(reg);
        expect(await b.getById(reg.id)).toEqual(reg);
        expect(await b.getByAddress(reg.address, reg.port)).toEqual(reg);
        expect(await b.getByAddress(reg.address, reg.port + 1)).toBeUndefined();
        expect(await b.getById('no-such-id')).toBeUndefined();
        expect(await b.getByEndpoint('no-such-endpoint')).toBeUndefined();
      });

      it('finds only plaintext registrations by address: a DTLS device sharing the public address and port never shadows one', async () => {
        const a = store();
        const b = store();
        const dtls = registration({ security: { mode: 'psk', name: 'dtls-id' } });
        const plain = registration({ address: dtls.address, port: dtls.port });
        await a.register(plain);
        await a.register(dtls);
        expect(await b.getByAddress(dtls.address, dtls.port)).toEqual(plain);
        expect(await b.getByEndpoint(dtls.endpoint)).toEqual(dtls);
        await a.deregister(plain.id);
        // (b would hear of it through the invalidation channel, which this suite does not run.)
        expect(await a.getByAddress(dtls.address, dtls.port)).toBeUndefined();
        expect(await store().getByAddress(dtls.address, dtls.port)).toBeUndefined();
        await a.deregister(dtls.id);
      });

      it('records which instance last saw the device', async () => {
        const a = store();
        const reg = registration();
        await a.register(reg);
        expect(await a.lastSeen(reg.endpoint)).toEqual({ instanceId: 'bridge-a', at: reg.lastUpdate });
        expect(await a.markSeen(reg.endpoint, reg.lastUpdate + 5)).toBe(true);
        expect(await a.markSeen('not-registered', 1)).toBe(false);
        expect(await a.lastSeen('not-registered')).toBeUndefined();
      });

      it('replaces the registration of an endpoint that registers again and returns the replaced one', async () => {
        // No invalidation subscriber here (redis-cache-invalidation.test.ts covers coherence): with its
        // record cache on, a would keep serving what it wrote itself; off, a reads what Redis holds.
        const a = store(0);
        const b = store();
        const first = registration();
        await a.register(first);
        const second = registration({ endpoint: first.endpoint, port: first.port + 1 });
        const { replaced } = await b.register(second);
        expect(replaced).toEqual(first);
        expect(await a.getByEndpoint(first.endpoint)).toEqual(second);
        expect(await a.getById(first.id)).toBeUndefined();
        expect(await a.getById(second.id)).toEqual(second);
        expect(await a.getByAddress(first.address, first.port)).toBeUndefined();
        expect(await a.getByAddress(second.address, second.port)).toEqual(second);
        // The replaced registration's id index stays a while (for removeByRegistration), then expires.
        const ttl = await target().admin().pttl(keys.endpointByRegistrationId(first.id));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(300_000);
      });

      it('applies an Update, moves the address index and refreshes the expiry', async () => {
        const a = store(0); // reads what Redis holds (see above)
        const b = store();
        const reg = registration();
        await a.register(reg);
        const now = reg.lastUpdate + 10_000;
        const result = await b.update(
          reg.id,
          {
            address: '198.51.100.4',
            port: 6000,
            lifetime: 600,
            binding: 'U',
            queueMode: false,
            objects: [{ objectId: 3, instances: [0] }],
            objectLinks: '</3/0>',
            rootPath: '/',
          },
          now,
        );
        const after: Registration = {
          ...reg,
          address: '198.51.100.4',
          port: 6000,
          lifetime: 600,
          binding: 'U',
          queueMode: false,
          objects: [{ objectId: 3, instances: [0] }],
          objectLinks: '</3/0>',
          rootPath: '/',
          lastUpdate: now,
          expiresAt: now + 600_000,
        };
        expect(result).toEqual({ before: reg, after });
        expect(await a.getByEndpoint(reg.endpoint)).toEqual(after);
        expect(await a.getByAddress('198.51.100.4', 6000)).toEqual(after);
        expect(await a.getByAddress(reg.address, reg.port)).toBeUndefined();
        expect(await target().admin().exists(keys.endpointByAddress(reg.address, reg.port))).toBe(0);
        const empty = await b.update(reg.id, {}, now + 1);
        expect(empty?.after).toEqual({ ...after, lastUpdate: now + 1, expiresAt: now + 1 + 600_000 });
      });

      it('expires a registration whose Update shortened its lifetime on time', async () => {
        const a = store();
        const now = Date.now();
        const reg = registration({ lifetime: 86400, expiresAt: now + 86_400_000 });
        await a.register(reg);
        await store().update(reg.id, { lifetime: 1 }, now);
        const claimed = await a.takeExpired(now + 1000 + 15_000 + 1, 15_000);
        expect(claimed.map((r) => r.id)).toContain(reg.id);
        expect(await a.getByEndpoint(reg.endpoint)).toBeUndefined();
      });

      it('de-registers, and then refuses the id', async () => {
        const a = store();
        const b = store();
        const reg = registration();
        await a.register(reg);
        expect(await b.getByEndpoint(reg.endpoint)).toEqual(reg);
        expect(await a.deregister(reg.id)).toEqual(reg);
        expect(await a.deregister(reg.id)).toBeUndefined();
        expect(await a.getByEndpoint(reg.endpoint)).toBeUndefined();
        expect(await a.getById(reg.id)).toBeUndefined();
        expect(await a.getByAddress(reg.address, reg.port)).toBeUndefined();
        expect(await a.update(reg.id, {}, Date.now())).toBeUndefined();
      });

      it('refuses an Update with the id of a replaced registration', async () => {
        const a = store();
        const b = store();
        const first = registration();
        await a.register(first);
        const second = registration({ endpoint: first.endpoint });
        await b.register(second);
        expect(await a.update(first.id, { address: '203.0.113.1' }, Date.now())).toBeUndefined();
        expect(await a.deregister(first.id)).toBeUndefined();
        expect(await b.getByEndpoint(first.endpoint)).toEqual(second);
      });

      it('counts and lists registrations', async () => {
        const prefixed = `t-${randomUUID()}`;
        const redis = client();
        const s = new RedisRegistrationStore({
          redis,
          keyPrefix: prefixed,
          instanceId: 'x',
          cacheTtlMs: 0,
          cacheMax: 0,
        });
        const regs = Array.from({ length: 25 }, () => registration());
        await Promise.all(regs.map((r) => s.register(r)));
        expect(await s.count()).toBe(25);
        const page1 = await s.list(0, 10);
        const page2 = await s.list(10, 10);
        const page3 = await s.list(20, 10);
        const listed = [...page1, ...page2, ...page3].map((r) => r.endpoint).sort();
        expect(listed).toEqual(regs.map((r) => r.endpoint).sort());
        await s.deregister(regs[0]!.id);
        expect((await s.list(0, 100)).length).toBe(24);
        await target().deleteKeys(`${prefixed}:*`);
      });

      it("caches what a Register wrote: its setup's and RPC drain's lookups need no command, another instance reads Redis", async () => {
        const stats = new RedisStats();
        const a = store(60_000, stats);
        const reg = registration();
        await a.register(reg);
        const commands = stats.commands;
        expect(await a.getByEndpoint(reg.endpoint)).toEqual(reg);
        expect(await a.getById(reg.id)).toEqual(reg);
        expect(stats.commands).toBe(commands);
        // The copy is what Redis holds: another instance, with an empty cache, reads the same.
        expect(await store().getByEndpoint(reg.endpoint)).toEqual(reg);
        // A Register that replaces it caches the new state, not the old one.
        const again = registration({ endpoint: reg.endpoint, port: reg.port + 1 });
        expect(await a.register(again)).toEqual({ replaced: reg });
        expect(await a.getByEndpoint(reg.endpoint)).toEqual(again);
        expect(await a.getById(reg.id)).toBeUndefined();
      });

      it('answers notification and Send lookups from the cache, else with one command', async () => {
        const stats = new RedisStats();
        const { registrations, observations } = createRedisStores({
          redis: client(),
          keyPrefix: prefix,
          instanceId: 'b',
          cacheTtlMs: 60_000,
          cacheMax: 100,
          stats,
        });
        const other = store();
        const reg = registration();
        await other.register(reg);
        await other.getById(reg.id);
        const obs = {
          token: randomBytes(8).toString('hex'),
          registrationId: reg.id,
          endpoint: reg.endpoint,
          kind: 'single' as const,
          paths: ['/3/0/9'],
          createdAt: 1,
        };
        await createRedisStores({
          redis: client(),
          keyPrefix: prefix,
          instanceId: 'c',
          cacheTtlMs: 0,
          cacheMax: 0,
        }).observations.add(obs);

        // Cold: one GET for the observation; its endpoint serves as the hint for getById: one HGETALL.
        expect(await observations.getByToken(obs.token)).toEqual(obs);
        expect(await registrations.getById(obs.registrationId)).toEqual(reg);
        expect(stats.operations.getObservation.commands).toBe(1);
        expect(stats.operations.getById.commands).toBe(1);
        // Warm: nothing.
        for (let i = 0; i < 10; i++) {
          await observations.getByToken(obs.token);
          await registrations.getById(obs.registrationId);
        }
        expect(stats.operations.getObservation).toMatchObject({ calls: 11, commands: 1, cacheHits: 10 });
        expect(stats.operations.getById).toMatchObject({ calls: 11, commands: 1, cacheHits: 10 });
        expect(stats.commandsPerNotification()).toBeCloseTo(2 / 11);
        // Send: GET address index + HGETALL cold (hint-less), then cached.
        const sendStats = new RedisStats();
        const send = store(60_000, sendStats);
        expect(await send.getByAddress(reg.address, reg.port)).toEqual(reg);
        expect(await send.getByAddress(reg.address, reg.port)).toEqual(reg);
        expect(sendStats.operations.getByAddress).toMatchObject({ calls: 2, commands: 2, cacheHits: 1 });
      });
    });
  },
  [`${prefix}:*`],
);
