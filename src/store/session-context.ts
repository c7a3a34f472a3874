/**
 * What both Redis stores of one instance share: options with their defaults, key names, the
 * counted Redis access and the bounded in-process caches.
 *
 * Caches (all bounded by cacheMax entries, LRU):
 * - registrations by endpoint and observations by token: copies of Redis records, expiring
 *   cacheTtlMs after they were read, so another instance's write is seen within cacheTtlMs;
 *   this instance's own writes invalidate them at once.
 * - endpoint by registration id and endpoint by address: hints that save the index lookup.
 *   An id belongs to one endpoint forever; an address hint is checked against the
 *   registration read through it. A cached answer is only ever trusted when it confirms a
 *   lookup; a cached mismatch is asked again of Redis, so a device that registered through
 *   another instance is found at once.
 *
 * Across instances the record caches are kept coherent by invalidation messages
 * (cache-invalidation.ts): each write that changes a registration or removes an observation is
 * announced, and every other instance drops its copy. cacheTtlMs then only bounds the effect of
 * a lost message; while the subscription is down the record caches are off.
 */
import type { Observation } from '../server/observation/observation-store';
import type { Registration } from '../server/registration/registration';
import { RedisKeys } from './keys';
import { ReadThroughCache, TtlLruCache } from '../common/lru-cache';
import { RedisIo, type RedisClient } from './redis-io';
import { RedisStats, type StoreOperation } from './redis-stats';

export interface RedisStoreOptions {
  readonly redis: RedisClient;
  /** REDIS_KEY_PREFIX; no braces (keys.ts). */
  readonly keyPrefix: string;
  /** Recorded as the instance that last saw a device. */
  readonly instanceId: string;
  /** How long a cached record is served before Redis is asked again (e.g. 2000). 0: always ask Redis. */
  readonly cacheTtlMs: number;
  /** Entries per cache (records, and the id/address hints). 0 disables all in-process caching. */
  readonly cacheMax: number;
  /** Grace added to index lifetimes (keys.ts indexDeadline); use the expiry grace. Default 15 s. */
  readonly expiryGraceMs?: number;
  /** Due registrations leased per expiry shard and sweep. Default 500. */
  readonly expiryBatch?: number;
  /** How long a sweeper holds leased members before others may take them. Default 30 s. */
  readonly expiryLeaseMs?: number;
  /** Counters to report into; pass one object to both stores to read them together. */
  readonly stats?: RedisStats;
  /** Caches to share between the registration and observation stores of one instance. */
  readonly cache?: StoreCache;
  readonly clock?: () => number;
}

const HINT_TTL_MS = 3_600_000;
/** Record copies live 80-100 % of the TTL: a fleet cached at once is re-read spread out, not all in one second. */
const RECORD_TTL_JITTER = 0.2;

/** What an invalidation message names: a registration by endpoint, or an observation by token. */
export type InvalidationKind = 'r' | 'o';

export class StoreCache {
  readonly registrationByEndpoint: ReadThroughCache<Registration>;
  readonly observationByToken: ReadThroughCache<Observation>;
  readonly endpointById: TtlLruCache<string>;
  readonly endpointByAddress: TtlLruCache<string>;

  constructor(max: number, ttlMs: number, clock: () => number = Date.now) {
    this.registrationByEndpoint = new ReadThroughCache(max, ttlMs, clock, undefined, RECORD_TTL_JITTER);
    this.observationByToken = new ReadThroughCache(max, ttlMs, clock, undefined, RECORD_TTL_JITTER);
    // Hints stay on with cacheTtlMs = 0: they are checked against what they lead to.
    this.endpointById = new TtlLruCache(max, HINT_TTL_MS, clock);
    this.endpointByAddress = new TtlLruCache(max, HINT_TTL_MS, clock);
  }

  /** Record caches off (cleared) or on again (cleared: messages may have been missed meanwhile). */
  setCoherent(coherent: boolean): void {
    this.registrationByEndpoint.setEnabled(coherent);
    this.observationByToken.setEnabled(coherent);
  }

  /** Releases expired entries of every cache, examining at most `maxScan` per cache; returns how many. */
  pruneExpired(maxScan: number): number {
    return (
      this.registrationByEndpoint.pruneExpired(maxScan) +
      this.observationByToken.pruneExpired(maxScan) +
      this.endpointById.pruneExpired(maxScan) +
      this.endpointByAddress.pruneExpired(maxScan)
    );
  }
}

export class SessionContext {
  readonly keys: RedisKeys;
  readonly io: RedisIo;
  readonly stats: RedisStats;
  readonly cache: StoreCache;
  readonly instanceId: string;
  readonly graceMs: number;
  readonly expiryBatch: number;
  readonly expiryLeaseMs: number;

  constructor(opts: RedisStoreOptions) {
    this.keys = new RedisKeys(opts.keyPrefix);
    this.stats = opts.stats ?? new RedisStats();
    this.io = new RedisIo(opts.redis, this.stats);
    this.cache = opts.cache ?? new StoreCache(opts.cacheMax, opts.cacheTtlMs, opts.clock);
    this.instanceId = opts.instanceId;
    this.graceMs = opts.expiryGraceMs ?? 15_000;
    this.expiryBatch = opts.expiryBatch ?? 500;
    this.expiryLeaseMs = opts.expiryLeaseMs ?? 30_000;
  }

  /**
   * Tells the other instances that a registration ("r", key = endpoint) changed or an
   * observation ("o", key = token) was removed. Best effort: a lost message is bounded by the
   * cache TTL.
   */
  announce(kind: InvalidationKind, key: string): void {
    const message = JSON.stringify([kind, this.instanceId, key]);
    void this.io.bestEffort('invalidate', (c) => c.publish(this.keys.cacheInvalidationChannel(), message));
  }

  /** The endpoint of a registration id: hint, else endpointByRegistrationId (one GET). */
  async endpointOfId(op: StoreOperation, id: string): Promise<string | undefined> {
    const hinted = this.cache.endpointById.get(id);
    if (hinted !== undefined) return hinted;
    const endpoint = await this.io.call(op, (c) => c.get(this.keys.endpointByRegistrationId(id)));
    if (endpoint === null) return undefined;
    this.cache.endpointById.set(id, endpoint);
    return endpoint;
  }
}
