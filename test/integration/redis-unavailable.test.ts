/**
 * When Redis cannot be reached, every store operation fails with the retriable
 * StoreUnavailableError (which the server turns into 5.03), never with a bare ioredis error.
 * An unreachable server is a closed port; a lost connection is a disconnected client.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import type { Registration } from '../../src/server/registration/registration';
import { StoreError, StoreUnavailableError } from '../../src/common/store-errors';
import { createRedisStores, type RedisStores } from '../../src/store';
import { storeError } from '../../src/store/redis-io';
import { testRedisUrl } from '../support/infra';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new TypeError('no port');
  return address.port;
}

const reg: Registration = {
  id: 'r1',
  endpoint: 'dev-down',
  address: '192.0.2.1',
  port: 5683,
  lifetime: 60,
  lwm2mVersion: '1.1',
  binding: 'U',
  queueMode: false,
  rootPath: '/',
  objects: [],
  objectLinks: '',
  registeredAt: 1,
  lastUpdate: 1,
  expiresAt: 60_001,
};

function operations(s: RedisStores): Array<[string, () => Promise<unknown>]> {
  return [
    ['register', () => s.registrations.register(reg)],
    ['update', () => s.registrations.update('r1', {}, 2)],
    ['deregister', () => s.registrations.deregister('r1')],
    ['getById', () => s.registrations.getById('r1')],
    ['getByEndpoint', () => s.registrations.getByEndpoint('dev-down')],
    ['getByAddress', () => s.registrations.getByAddress('192.0.2.1', 5683)],
    ['takeExpired', () => s.registrations.takeExpired(Date.now(), 0)],
    ['count', () => s.registrations.count()],
    ['list', () => s.registrations.list(0, 10)],
    ['getByToken', () => s.observations.getByToken('00')],
    [
      'add',
      () =>
        s.observations.add({
          token: '00',
          registrationId: 'r1',
          endpoint: 'dev-down',
          kind: 'single',
          paths: ['/3/0/9'],
          createdAt: 1,
        }),
    ],
    ['remove', () => s.observations.remove('00')],
    ['listByRegistration', () => s.observations.listByRegistration('r1')],
    ['removeByRegistration', () => s.observations.removeByRegistration('r1')],
  ];
}

/** What an operation failed with, as plain text (an ioredis error object is huge to print). */
async function failure(op: () => Promise<unknown>): Promise<string> {
  return op().then(
    () => 'resolved',
    (e: unknown) =>
      e instanceof StoreUnavailableError ? `${e.name} ${e.code} retriable=${e.retriable}` : `other: ${String(e)}`,
  );
}
const UNAVAILABLE = 'StoreUnavailableError STORE_UNAVAILABLE retriable=true';

describe('Redis unavailable', () => {
  it('fails every operation with StoreUnavailableError when Redis cannot be reached', async () => {
    const redis = new Redis({
      host: '127.0.0.1',
      port: await closedPort(),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    redis.on('error', () => undefined);
    const stores = createRedisStores({
      redis,
      keyPrefix: `t-${randomUUID()}`,
      instanceId: 'x',
      cacheTtlMs: 2000,
      cacheMax: 10,
    });
    for (const [name, op] of operations(stores))
      expect(`${name}: ${await failure(op)}`).toBe(`${name}: ${UNAVAILABLE}`);
    expect(stores.stats.errors).toBeGreaterThanOrEqual(operations(stores).length);
    redis.disconnect();
  });

  it('fails with StoreUnavailableError once a working connection is lost', async () => {
    const redis = new Redis(testRedisUrl(), {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    await new Promise((resolve) => redis.once('ready', resolve));
    const prefix = `t-${randomUUID()}`;
    const stores = createRedisStores({ redis, keyPrefix: prefix, instanceId: 'x', cacheTtlMs: 0, cacheMax: 0 });
    await stores.registrations.register({ ...reg, endpoint: `dev-${randomUUID()}` });
    const cleanup = new Redis(testRedisUrl());
    const found = await cleanup.keys(`${prefix}:*`);
    await cleanup.del(...found);
    await cleanup.quit();
    redis.disconnect();
    for (const [name, op] of operations(stores))
      expect(`${name}: ${await failure(op)}`).toBe(`${name}: ${UNAVAILABLE}`);
  });

  it('tells a refusal from Redis (not retriable) from unavailability', () => {
    const reply = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), {
      name: 'ReplyError',
    });
    expect(storeError('getById', reply)).toBeInstanceOf(StoreError);
    const loading = Object.assign(new Error('LOADING Redis is loading the dataset in memory'), { name: 'ReplyError' });
    expect(storeError('getById', loading)).toBeInstanceOf(StoreUnavailableError);
    expect(storeError('getById', new Error('Connection is closed.'))).toBeInstanceOf(StoreUnavailableError);
  });
});
