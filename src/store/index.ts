/**
 * The Redis session stores of one bridge instance, wired to share their counters and caches
 * (a notification's getByToken then tells getById which device to read, saving an index read).
 */
import { RedisObservationStore } from './redis-observation-store';
import { RedisRegistrationStore } from './redis-registration-store';
import { RedisStats } from './redis-stats';
import { StoreCache, type RedisStoreOptions } from './session-context';

export { RedisObservationStore } from './redis-observation-store';
export { RedisRegistrationStore } from './redis-registration-store';
export { RedisStats, type StoreOperation, type OperationStats } from './redis-stats';
export { StoreCache, type RedisStoreOptions } from './session-context';
export { CacheInvalidation } from './cache-invalidation';
export type { RedisClient } from './redis-io';

export interface RedisStores {
  readonly registrations: RedisRegistrationStore;
  readonly observations: RedisObservationStore;
  readonly stats: RedisStats;
  readonly cache: StoreCache;
}

export function createRedisStores(opts: RedisStoreOptions): RedisStores {
  const stats = opts.stats ?? new RedisStats();
  const cache = opts.cache ?? new StoreCache(opts.cacheMax, opts.cacheTtlMs, opts.clock);
  const shared = { ...opts, stats, cache };
  return {
    registrations: new RedisRegistrationStore(shared),
    observations: new RedisObservationStore(shared),
    stats,
    cache,
  };
}
