/**
 * Builds the ioredis client of the session stores from REDIS_* (redis-url.ts): a `Redis` for one
 * server, a `Cluster` for Redis Cluster. Both fail fast while Redis is away — no offline queue,
 * one retry per request — so a device gets 5.03 instead of a request that hangs, and both
 * reconnect with the same capped exponential backoff.
 *
 * Cluster: the client follows MOVED/ASK redirections and refreshes its slot map (Redis Cluster
 * spec, "Redirection and resharding"); every read goes to the master of its slot
 * (scaleReads 'master'), since the stores read their own writes. Pub/sub (cache invalidation,
 * instance hand-off) uses a `duplicate()` of the client, which subscribes on one node: PUBLISH
 * reaches every node of a cluster ("Pub/Sub" in the spec).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClient } from '../store';
import { redisSettings, type RedisAuth, type RedisSettings, type RedisUrlInput } from './redis-url';

/** 100, 200, 400 ... 2000 ms between reconnection attempts, never giving up. */
export function redisBackoff(times: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(times, 6));
}

const FAIL_FAST = {
  enableOfflineQueue: false,
  enableAutoPipelining: true,
} as const;

function authOptions(a: RedisAuth): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(a.username !== undefined ? { username: a.username } : {}),
    ...(a.password !== undefined ? { password: a.password } : {}),
    ...(a.tls ? { tls: {} } : {}),
  };
}

function singleOptions(s: RedisSettings): RedisOptions {
  return {
    ...FAIL_FAST,
    maxRetriesPerRequest: 1,
    retryStrategy: redisBackoff,
    lazyConnect: false,
    ...authOptions(s),
  };
}

function clusterOptions(s: RedisSettings): ClusterOptions {
  return {
    ...FAIL_FAST,
    scaleReads: 'master',
    enableReadyCheck: true,
    clusterRetryStrategy: redisBackoff,
    lazyConnect: false,
    // TLS certificates name hosts, not the addresses they resolve to: connect by name.
    ...(s.tls
      ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) }
      : {}),
    redisOptions: { maxRetriesPerRequest: 1, ...authOptions(s) },
  };
}

/** The client REDIS_* describe (REDIS_URL non-empty); throws ConfigError naming REDIS_URL. */
export function createRedisClient(config: RedisUrlInput): RedisClient {
  const s = redisSettings(config);
  switch (s.kind) {
    case 'cluster':
      return new Cluster(
        s.nodes.map((n) => ({ host: n.host, port: n.port })),
        clusterOptions(s),
      );
    case 'single':
      return new Redis({ host: s.node.host, port: s.node.port, db: s.db, ...singleOptions(s) });
    case 'raw':
      return new Redis(s.url, singleOptions(s));
  }
}

/** Another connection with the same settings, e.g. for a subscriber (a Cluster stays a Cluster). */
export function duplicateRedisClient(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}
