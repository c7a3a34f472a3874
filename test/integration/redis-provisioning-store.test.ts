/**
 * Provisioning records in Redis: shared by every instance, under the device's hash tag.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisProvisioningStore } from '../../src/store/redis/redis-provisioning-store';
import { testRedisUrl } from '../support/infra';

let a: Redis;
let b: Redis;
const prefix = `prov-${randomUUID().slice(0, 8)}`;

beforeAll(() => {
  a = new Redis(testRedisUrl());
  b = new Redis(testRedisUrl());
});
afterAll(async () => {
  const keys = await a.keys(`${prefix}:*`);
  if (keys.length > 0) await a.del(...keys);
  await Promise.all([a.quit(), b.quit()]);
});

it('stores, shares and deletes a record; the key carries the device hash tag', async () => {
  const one = new RedisProvisioningStore(a, prefix);
  const other = new RedisProvisioningStore(b, prefix);
  await one.put({ endpoint: 'dev-1', profile: 'thermo', credentials: { psk: 'secret' } });
  expect(await other.get('dev-1')).toEqual({ endpoint: 'dev-1', profile: 'thermo', credentials: { psk: 'secret' } });
  expect(await a.keys(`${prefix}:*`)).toEqual([`${prefix}:{ep:dev-1}:prov`]);
  await other.delete('dev-1');
  expect(await one.get('dev-1')).toBeUndefined();
});

it('reports Redis being away as a retriable StoreUnavailableError', async () => {
  const dead = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const store = new RedisProvisioningStore(dead, prefix);
  await expect(store.get('dev-1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retriable: true });
  dead.disconnect();
});
