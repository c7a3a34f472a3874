/**
 * Provisioning records in Redis: shared by every instance, under the device's hash tag.
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomUUID } from 'node:crypto';
import { RedisProvisioningStore } from '../../src/store/redis-provisioning-store';
import type { RedisClient } from '../../src/store';
import { describeRedisTargets, unreachableRedis } from '../support/redis-targets';

const prefix = `prov-${randomUUID().slice(0, 8)}`;

describeRedisTargets(
  'RedisProvisioningStore',
  (target) => {
    let a: RedisClient;
    let b: RedisClient;
    beforeAll(() => {
      a = target().client();
      b = target().client();
    });

    it('stores, shares and deletes a record; the key carries the device hash tag', async () => {
      const one = new RedisProvisioningStore(a, prefix);
      const other = new RedisProvisioningStore(b, prefix);
      await one.put({
        endpoint: 'dev-1',
        profile: 'thermo',
        credentials: { mode: 'psk', identity: 'dev-1', key: '5ec2e7' },
      });
      expect(await other.get('dev-1')).toEqual({
        endpoint: 'dev-1',
        profile: 'thermo',
        credentials: { mode: 'psk', identity: 'dev-1', key: '5ec2e7' },
      });
      expect((await target().keys(`${prefix}:*`)).sort()).toEqual([
        `${prefix}:{cred:psk:dev-1}`,
        `${prefix}:{ep:dev-1}:prov`,
      ]);
      await other.delete('dev-1');
      expect(await one.get('dev-1')).toBeUndefined();
      expect(await target().keys(`${prefix}:*`)).toEqual([]);
    });

    it('finds a record by PSK identity on any instance; a changed identity or a stale index finds nothing', async () => {
      const one = new RedisProvisioningStore(a, prefix);
      const other = new RedisProvisioningStore(b, prefix);
      await one.put({ endpoint: 'dev-2', credentials: { mode: 'psk', identity: 'id-2', key: '01' } });
      expect((await other.findByCredential('psk', 'id-2'))?.endpoint).toBe('dev-2');
      await other.put({ endpoint: 'dev-2', credentials: { mode: 'psk', identity: 'id-2b', key: '01' } });
      expect(await one.findByCredential('psk', 'id-2')).toBeUndefined();
      expect(await a.exists(`${prefix}:{cred:psk:id-2}`)).toBe(0);
      expect((await one.findByCredential('psk', 'id-2b'))?.endpoint).toBe('dev-2');
      // An index left behind (a crash between two writes) points to a record without that identity.
      await a.set(`${prefix}:{cred:psk:ghost}`, 'dev-2');
      expect(await one.findByCredential('psk', 'ghost')).toBeUndefined();
      await one.delete('dev-2');
      expect(await other.findByCredential('psk', 'id-2b')).toBeUndefined();
    });

    it('reports Redis being away as a retriable StoreUnavailableError', async () => {
      const dead = unreachableRedis();
      const store = new RedisProvisioningStore(dead, prefix);
      await expect(store.get('dev-1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retriable: true });
      dead.disconnect();
    });
  },
  [`${prefix}:*`],
);
