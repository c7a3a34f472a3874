/**
 * Several store instances (each with its own ioredis connection, as separate bridge processes
 * would have) racing on the same Redis:
 * - Register / Update / De-register storms on one endpoint leave a consistent session: every
 *   lookup leads to the live registration or to nothing, and its observations are its own;
 * - expiry is claimed exactly once across three sweeping instances, also against De-registers.
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Registration } from '../../src/server/registration/registration';
import type { Observation } from '../../src/server/observation/observation-store';
import { StoreError } from '../../src/common/store-errors';
import { RedisKeys } from '../../src/store/keys';
import { EXPIRY_LEASE } from '../../src/store/scripts';
import { createRedisStores, type RedisStores } from '../../src/store';
import { describeRedisTargets } from '../support/redis-targets';

const prefix = `t-${randomUUID()}`;
const keys = new RedisKeys(prefix);

describeRedisTargets(
  'Redis stores',
  (target) => {
    function instance(name: string, cacheTtlMs = 2000, expiryBatch?: number): RedisStores {
      const redis = target().client({ maxRetriesPerRequest: 2 });
      return createRedisStores({
        redis,
        keyPrefix: prefix,
        instanceId: name,
        cacheTtlMs,
        cacheMax: 10_000,
        ...(expiryBatch ? { expiryBatch } : {}),
      });
    }

    function registration(over: Partial<Registration> = {}): Registration {
      const now = Date.now();
      return {
        id: randomBytes(8).toString('base64url'),
        endpoint: `dev-${randomUUID()}`,
        address: '192.0.2.30',
        port: 5683,
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

    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
    const PORTS = [5683, 5684, 40001, 40002, 40003];

    /** One random operation, completed the way the server completes it (observations of ended registrations removed). */
    async function randomOperation(s: RedisStores, endpoint: string, ids: string[], tokens: string[]): Promise<void> {
      const r = Math.random();
      if (r < 0.3 || ids.length === 0) {
        const reg = registration({ endpoint, port: pick(PORTS) });
        ids.push(reg.id); // known before it completes, so that Updates race their own Register
        const { replaced } = await s.registrations.register(reg);
        if (replaced) await s.observations.removeByRegistration(replaced.id);
      } else if (r < 0.6) {
        await s.registrations.update(pick(ids), { port: pick(PORTS), lifetime: pick([300, 600]) }, Date.now());
      } else if (r < 0.75) {
        const ended = await s.registrations.deregister(pick(ids));
        if (ended) await s.observations.removeByRegistration(ended.id);
      } else if (r < 0.92) {
        const token = randomBytes(8).toString('hex');
        tokens.push(token);
        const obs: Observation = {
          token,
          registrationId: pick(ids),
          endpoint,
          kind: 'single',
          paths: ['/3/0/9'],
          createdAt: Date.now(),
        };
        await s.observations.add(obs).catch((err: unknown) => {
          if (!(err instanceof StoreError)) throw err; // refused: not the current registration
        });
      } else {
        await s.observations.remove(pick(tokens.length > 0 ? tokens : ['00']));
      }
    }

    async function expectConsistent(
      endpoint: string,
      ids: readonly string[],
      tokens: readonly string[],
    ): Promise<Registration | undefined> {
      const fresh = instance('checker', 0);
      const live = await fresh.registrations.getByEndpoint(endpoint);
      for (const id of ids) {
        expect(await fresh.registrations.getById(id)).toEqual(live !== undefined && live.id === id ? live : undefined);
      }
      for (const port of PORTS) {
        const found = await fresh.registrations.getByAddress('192.0.2.30', port);
        expect(found).toEqual(live !== undefined && live.port === port ? live : undefined);
      }
      if (live !== undefined) {
        expect(await target().admin().get(keys.endpointByRegistrationId(live.id))).toBe(endpoint);
        expect(
          JSON.parse((await target().admin().get(keys.endpointByAddress(live.address, live.port))) ?? 'null')?.[0],
        ).toBe(endpoint);
      }
      // Observations: only the live registration's stay in the device hash, and each is found by token.
      const stored = Object.values(await target().admin().hgetall(keys.observationsByEndpoint(endpoint))).map(
        (t) => JSON.parse(t) as { t: string; r: string },
      );
      for (const o of stored) {
        expect(o.r).toBe(live?.id);
        expect((await fresh.observations.getByToken(o.t))?.registrationId).toBe(live?.id);
      }
      // A token copy left behind by a race names a dead registration, never the live one.
      const inHash = new Set(stored.map((o) => o.t));
      for (const token of tokens) {
        const copy = await fresh.observations.getByToken(token);
        if (copy !== undefined && !inHash.has(token)) expect(copy.registrationId).not.toBe(live?.id);
      }
      return live;
    }

    describe('concurrent writers on one endpoint', () => {
      it.each([1, 2, 3])(
        'Register/Update/De-register storm %p from two instances leaves a consistent session',
        async () => {
          const a = instance('a');
          const b = instance('b');
          const endpoint = `storm-${randomUUID()}`;
          const ids: string[] = [];
          const tokens: string[] = [];
          for (let round = 0; round < 40; round++) {
            await Promise.all(
              Array.from({ length: 10 }, (_, k) => randomOperation(k % 2 === 0 ? a : b, endpoint, ids, tokens)),
            );
          }
          // And all at once.
          await Promise.all(
            Array.from({ length: 300 }, (_, k) => randomOperation(k % 2 === 0 ? a : b, endpoint, ids, tokens)),
          );
          const live = await expectConsistent(endpoint, ids, tokens);

          // Whatever the storm left expires once, and takes every index with it.
          const claimed = await a.registrations.takeExpired(Date.now() + 10_000_000, 0);
          expect(claimed.map((r) => r.id)).toEqual(live ? [live.id] : []);
          if (live) await a.observations.removeByRegistration(live.id);
          expect(await b.registrations.takeExpired(Date.now() + 10_000_000, 0)).toEqual([]);
          await expectConsistent(endpoint, ids, []);
          expect(
            await target().admin().exists(keys.registrationByEndpoint(endpoint), keys.observationsByEndpoint(endpoint)),
          ).toBe(0);
        },
      );
    });

    describe('expiry across instances', () => {
      it('announces each expired registration exactly once across three sweeping instances', async () => {
        const sweepers = [instance('s1', 2000, 7), instance('s2', 2000, 7), instance('s3', 2000, 7)];
        const writer = instance('w');
        const now = Date.now();
        const past = { registeredAt: now - 100_000, lastUpdate: now - 100_000, lifetime: 10, expiresAt: now - 90_000 };
        const expired = Array.from({ length: 150 }, () => registration(past));
        const alive = Array.from({ length: 30 }, () => registration());
        const refreshed = Array.from({ length: 20 }, () => registration(past));
        const racing = Array.from({ length: 30 }, () => registration(past));
        await Promise.all([...expired, ...alive, ...refreshed, ...racing].map((r) => writer.registrations.register(r)));
        // Refreshed by an Update: due by its index score, alive by its record.
        await Promise.all(refreshed.map((r) => writer.registrations.update(r.id, {}, now)));

        const announced: Registration[] = [];
        const deregistered: Registration[] = [];
        await Promise.all([
          ...sweepers.flatMap((s) =>
            [0, 1, 2].map(async () => {
              for (let i = 0; i < 8; i++) announced.push(...(await s.registrations.takeExpired(now, 1000)));
            }),
          ),
          ...racing.map(async (r) => {
            const gone = await writer.registrations.deregister(r.id);
            if (gone) deregistered.push(gone);
          }),
        ]);

        const ids = announced.map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length); // exactly once
        const racingIds = new Set(racing.map((r) => r.id));
        expect(ids.filter((id) => !racingIds.has(id)).sort()).toEqual(expired.map((r) => r.id).sort());
        // Each racing registration ended exactly once: by expiry or by De-register.
        expect([...ids.filter((id) => racingIds.has(id)), ...deregistered.map((r) => r.id)].sort()).toEqual(
          [...racingIds].sort(),
        );
        expect(announced.find((r) => r.id === expired[0]!.id)).toEqual(expired[0]);

        const check = instance('check', 0);
        for (const r of [...alive, ...refreshed])
          expect((await check.registrations.getById(r.id))?.endpoint).toBe(r.endpoint);
        for (const r of expired) expect(await check.registrations.getByEndpoint(r.endpoint)).toBeUndefined();
        // Settled: nothing left to claim; after this sweep (which also drops the members of the
        // De-registers that came after the others) the index holds exactly the live registrations.
        expect(await sweepers[0]!.registrations.takeExpired(now, 1000)).toEqual([]);
        expect(await check.registrations.count()).toBe(alive.length + refreshed.length);
        // The expired registration's id index outlives it long enough for its observations to go.
        expect(await check.observations.removeByRegistration(expired[1]!.id)).toEqual([]);
        expect(sweepers.reduce((n, s) => n + s.stats.expiredClaimed, 0)).toBe(ids.length);
      });

      it('gives the members a sweeper leased and never settled to the others once the lease passes', async () => {
        const writer = instance('w2');
        const now = Date.now();
        const due = Array.from({ length: 12 }, () =>
          registration({
            registeredAt: now - 100_000,
            lastUpdate: now - 100_000,
            lifetime: 10,
            expiresAt: now - 90_000,
          }),
        );
        await Promise.all(due.map((r) => writer.registrations.register(r)));
        // A sweeper leases every due member for 1 s and dies.
        await Promise.all(
          keys.expiryShards().map((shard) =>
            target()
              .admin()
              .eval(EXPIRY_LEASE.lua, 1, shard, now - 1000, now + 1000, 1000),
          ),
        );
        const sweeper = instance('survivor');
        expect(
          (await sweeper.registrations.takeExpired(now, 1000)).filter((r) => due.some((d) => d.id === r.id)),
        ).toEqual([]);
        const later = await sweeper.registrations.takeExpired(now + 1000 + 1000 + 1, 1000);
        expect(
          later
            .map((r) => r.id)
            .filter((id) => due.some((d) => d.id === id))
            .sort(),
        ).toEqual(due.map((r) => r.id).sort());
      });
    });
  },
  [`${prefix}:*`],
);
