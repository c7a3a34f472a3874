/**
 * What devices lack, in Redis: shared by every instance, under the device's hash tag, about one
 * registration at a time. Runs on the single test Redis and on a 3-master Redis Cluster
 * (../support/redis-targets.ts), where the learning script's key must carry the device's tag.
 */
import { randomUUID } from 'node:crypto';
import { CAPABILITY_TTL_MS, RedisCapabilityStore } from '../../src/store/redis-capability-store';
import type { RedisClient } from '../../src/store';
import { registration } from '../support/profile-fixtures';
import { describeRedisTargets, unreachableRedis } from '../support/redis-targets';

const prefix = `caps-${randomUUID().slice(0, 8)}`;

describeRedisTargets(
  'RedisCapabilityStore',
  (target) => {
    let a: RedisClient;
    let b: RedisClient;
    beforeAll(() => {
      a = target().client();
      b = target().client();
    });
    const store = (client: RedisClient, cacheTtlMs = 60_000): RedisCapabilityStore =>
      new RedisCapabilityStore({ redis: client, keyPrefix: prefix, cacheMax: 100, cacheTtlMs });

    it('one instance learns, another knows; the facts belong to one registration', async () => {
      const reg = registration({ endpoint: 'dev-1', id: 'r1' });
      const one = store(a);
      const other = store(b);
      await one.learn(reg, { kind: 'lacks', operation: 'Read-Composite' });
      await one.learn(reg, { kind: 'refuses-format', format: 112 });
      const known = await other.get(reg);
      expect([...known.lacking]).toEqual(['Read-Composite']);
      expect([...known.refusedFormats]).toEqual([112]);
      expect([...(await one.get(reg)).refusedFormats]).toEqual([112]);
      expect(await target().keys(`${prefix}:*`)).toEqual([`${prefix}:{ep:dev-1}:caps`]);
      const ttl = await a.pttl(`${prefix}:{ep:dev-1}:caps`);
      expect(ttl).toBeGreaterThan(CAPABILITY_TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(CAPABILITY_TTL_MS);

      // A new registration of the endpoint starts with nothing known; its first fact drops the old ones.
      const next = registration({ endpoint: 'dev-1', id: 'r2' });
      expect((await store(b).get(next)).lacking.size).toBe(0);
      await other.learn(next, { kind: 'refuses-format', format: 110 });
      const fresh = await store(a).get(next);
      expect([...fresh.lacking]).toEqual([]);
      expect([...fresh.refusedFormats]).toEqual([110]);
      expect((await store(a).get(reg)).refusedFormats.size).toBe(0);
    });

    it('knows a registration it just took has no facts yet, without asking Redis', async () => {
      const reg = registration({ endpoint: 'dev-4', id: 'r9' });
      await a.hset(`${prefix}:{ep:dev-4}:caps`, 'rid', 'r9', 'format:112', '1'); // as if learned elsewhere
      const here = store(a);
      here.registered(reg);
      expect((await here.get(reg)).refusedFormats.size).toBe(0); // the cache, not Redis
      expect([...(await store(a).get(reg)).refusedFormats]).toEqual([112]);
    });

    it('ignores fields it does not know (written by a newer version)', async () => {
      const reg = registration({ endpoint: 'dev-2', id: 'r1' });
      await a.hset(`${prefix}:{ep:dev-2}:caps`, 'rid', 'r1', 'lacks:Teleport', '1', 'format:x', '1', 'format:60', '1');
      const known = await store(a).get(reg);
      expect([...known.lacking]).toEqual([]);
      expect([...known.refusedFormats]).toEqual([60]);
    });

    it('reports Redis being away as a retriable StoreUnavailableError', async () => {
      const dead = unreachableRedis();
      const reg = registration({ endpoint: 'dev-3' });
      await expect(store(dead).get(reg)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retriable: true });
      await expect(store(dead).learn(reg, { kind: 'refuses-format', format: 112 })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      dead.disconnect();
    });
  },
  [`${prefix}:*`],
);
