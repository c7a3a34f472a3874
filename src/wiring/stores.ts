/**
 * Session stores: Redis when REDIS_URL is set (shared by every instance), else in memory.
 * Redis is one server or a Redis Cluster (REDIS_CLUSTER; redis-connection.ts): every key a script
 * touches shares one hash tag (store/keys.ts; Redis Cluster spec, "Hash tags").
 */
import type { Config } from '../config/env';
import type { Logger } from '../observability/logger';
import { MemoryRegistrationStore } from '../server/registration/memory-registration-store';
import { MemoryObservationStore, type ObservationStore } from '../server/observation/observation-store';
import { CacheInvalidation, createRedisStores, RedisStats } from '../store';
import { RedisKeys } from '../store/keys';
import { redisVersionProblem } from '../store/redis-version';
import { createRedisClient, duplicateRedisClient } from './redis-connection';
import type { RegistrationStore } from '../server/registration/registration-store';
import { MemoryCapabilityStore, type CapabilityStore } from '../server/capabilities/capability-store';
import { RedisCapabilityStore } from '../store/redis-capability-store';
import { MemoryProvisioningStore, type ProvisioningStore } from '../profile/provisioning';
import { RedisProvisioningStore } from '../store/redis-provisioning-store';
import { MemoryRpcQueue } from '../rpc/memory-rpc-queue';
import { LocalPeers, type RpcPeers } from '../rpc/rpc-peers';
import type { RpcQueue } from '../rpc/rpc-queue';
import { RedisIo } from '../store/redis-io';
import { RedisPeers } from '../store/redis-peers';
import { RedisRpcQueue } from '../store/redis-rpc-queue';
import { RedisDtlsSessions } from '../store/redis-dtls-sessions';
import type { SharedSessionStore } from '../dtls/shared-sessions';

export interface Stores {
  readonly kind: 'redis' | 'memory';
  readonly registrations: RegistrationStore;
  readonly observations: ObservationStore;
  /** What devices were found to lack (composite operations, content formats), per registration. */
  readonly capabilities: CapabilityStore;
  /** Provisioning records (profile per endpoint) followed from the devices topic. */
  readonly provisioning: ProvisioningStore;
  /** Held RPC requests per device, and the hand-off between instances (docs/rpc-routing.md). */
  readonly rpcQueue: RpcQueue;
  readonly peers: RpcPeers;
  /** The instance that last saw a device (undefined in memory: this one is the only one). */
  owner(endpoint: string): Promise<{ instance: string; at: number } | undefined>;
  /** Records this instance as the one that sees the device now. */
  markSeen(endpoint: string, now: number): Promise<void>;
  /** Calls `listener` when another instance writes a device's registration (and may now be its owner). */
  onForeignWrite(listener: (endpoint: string) => void): void;
  readonly redisStats?: RedisStats;
  /** DTLS connection state shared by every instance (Redis only; sealed under the shared secret). */
  dtlsSessions?(secret: Buffer, ttlMs: number): SharedSessionStore;
  ready(): boolean;
  close(): Promise<void>;
}

export function createStores(config: Config, log: Logger): Stores {
  if (config.REDIS_URL === '') {
    return {
      kind: 'memory',
      registrations: new MemoryRegistrationStore(),
      observations: new MemoryObservationStore(),
      capabilities: new MemoryCapabilityStore(),
      provisioning: new MemoryProvisioningStore(),
      rpcQueue: new MemoryRpcQueue(),
      peers: new LocalPeers(config.INSTANCE_ID),
      owner: async () => undefined,
      markSeen: async () => undefined,
      onForeignWrite: () => undefined,
      ready: () => true,
      close: async () => undefined,
    };
  }
  // A bad REDIS_URL (or seed list) throws ConfigError here: exit code 2 naming REDIS_URL.
  const redis = createRedisClient(config);
  const cluster = config.REDIS_CLUSTER;
  let lastError = '';
  redis.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn({ err: err.message }, 'redis error');
    lastError = err.message;
  });
  // A cluster reports a failing node apart from the client's own state.
  if (cluster) {
    redis.on('node error', (err: Error, node: string) => {
      const text = `${node}: ${err.message}`;
      if (text !== lastError) log.warn({ err: err.message, node }, 'redis cluster node error');
      lastError = text;
    });
  }
  // Not ready while the server is too old for the stores' commands: the logs say why.
  let incompatible: string | undefined;
  redis.on('ready', () => {
    if (lastError !== '') log.info('redis reachable again');
    lastError = '';
    redis.info('server').then(
      (info) => {
        incompatible = redisVersionProblem(info);
        if (incompatible !== undefined) log.error({ err: incompatible }, 'redis cannot hold the sessions');
      },
      () => undefined, // the connection dropped again; the next 'ready' checks
    );
  });
  const stores = createRedisStores({
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    instanceId: config.INSTANCE_ID,
    cacheTtlMs: config.REDIS_CACHE_TTL_MS,
    cacheMax: config.REDIS_CACHE_MAX,
    expiryGraceMs: config.LWM2M_EXPIRY_GRACE_MS,
    stats: new RedisStats(),
  });
  const keys = new RedisKeys(config.REDIS_KEY_PREFIX);
  // Its own connection: a subscribed connection runs no other command. Its errors are the main
  // connection's (same server), which logs them. On a cluster the duplicate subscribes on one
  // node, which hears every node's PUBLISH (Redis Cluster spec, "Pub/Sub").
  const subscriber = duplicateRedisClient(redis);
  subscriber.on('error', () => undefined);
  const writeListeners: Array<(endpoint: string) => void> = [];
  const invalidation = new CacheInvalidation({
    subscriber,
    channel: keys.cacheInvalidationChannel(),
    cache: stores.cache,
    instanceId: config.INSTANCE_ID,
    stats: stores.stats,
    onMalformed: (message) =>
      log.warn({ message: message.slice(0, 200) }, 'unreadable cache invalidation message ignored'),
    onRegistrationWrite: (endpoint) => writeListeners.forEach((l) => l(endpoint)),
  });
  const io = new RedisIo(redis, stores.stats);
  const peerConnection = duplicateRedisClient(redis);
  peerConnection.on('error', () => undefined);
  const peers = new RedisPeers({
    self: config.INSTANCE_ID,
    io,
    keys,
    subscriber: peerConnection,
    publishCountIsNodeLocal: cluster,
    heartbeatMs: config.INSTANCE_HEARTBEAT_MS,
    onMalformed: (text) => log.warn({ message: text.slice(0, 200) }, 'unreadable instance message ignored'),
  });
  return {
    kind: 'redis',
    rpcQueue: new RedisRpcQueue({
      io,
      keys,
      onUnreadable: (endpoint, text) =>
        log.warn({ endpoint, entry: text.slice(0, 200) }, 'unreadable RPC queue entry dropped'),
    }),
    peers,
    owner: async (endpoint) => {
      const seen = await stores.registrations.lastSeen(endpoint);
      return seen === undefined ? undefined : { instance: seen.instanceId, at: seen.at };
    },
    markSeen: async (endpoint, now) => void (await stores.registrations.markSeen(endpoint, now)),
    onForeignWrite: (listener) => void writeListeners.push(listener),
    registrations: stores.registrations,
    observations: stores.observations,
    capabilities: new RedisCapabilityStore({
      redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      cacheMax: config.REDIS_CACHE_MAX,
      cacheTtlMs: config.REDIS_CACHE_TTL_MS,
    }),
    provisioning: new RedisProvisioningStore(redis, config.REDIS_KEY_PREFIX),
    dtlsSessions: (secret, ttlMs) =>
      new RedisDtlsSessions({ redis, keyPrefix: config.REDIS_KEY_PREFIX, secret, ttlMs }),
    redisStats: stores.stats,
    ready: () => redis.status === 'ready' && incompatible === undefined,
    close: async () => {
      await peers.close();
      await invalidation.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
