/**
 * What devices were found to lack (server/capabilities/), in Redis so that every instance knows it:
 * one hash per device under the device's hash tag (keys.ts `capabilitiesByEndpoint`), holding the
 * registration it is about. A bounded local cache sits in front: a fact only ever gets added, so
 * a copy that missed another instance's fact costs at most one more refused request.
 */
import { TtlLruCache } from '../common/lru-cache';
import {
  capabilitiesFromFields,
  factField,
  NO_FACTS,
  type CapabilityFact,
  type CapabilityStore,
  type DeviceCapabilities,
} from '../server/capabilities/capability-store';
import type { Registration } from '../server/registration/registration';
import { RedisKeys } from './keys';
import { redisCall } from './redis-call';
import type { RedisClient } from './redis-io';

/** Facts outlive a quiet week; a device still registered then is asked again, once. */
export const CAPABILITY_TTL_MS = 7 * 24 * 3600 * 1000;

/** KEYS[1] the device's hash; ARGV: registration id, field, TTL ms. Another registration's facts go first. */
const LEARN = `
if redis.call('HGET', KEYS[1], 'rid') ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'rid', ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[2], '1')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

interface Cached {
  readonly registrationId: string;
  readonly capabilities: DeviceCapabilities;
}

export interface RedisCapabilityStoreOptions {
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly cacheMax: number;
  readonly cacheTtlMs: number;
}

export class RedisCapabilityStore implements CapabilityStore {
  private readonly keys: RedisKeys;
  private readonly cache: TtlLruCache<Cached>;

  constructor(private readonly opts: RedisCapabilityStoreOptions) {
    this.keys = new RedisKeys(opts.keyPrefix);
    this.cache = new TtlLruCache(opts.cacheMax, opts.cacheTtlMs);
  }

  async get(reg: Registration): Promise<DeviceCapabilities> {
    const cached = this.cache.get(reg.endpoint);
    if (cached?.registrationId === reg.id) return cached.capabilities;
    const hash = await redisCall('get capabilities', () =>
      this.opts.redis.hgetall(this.keys.capabilitiesByEndpoint(reg.endpoint)),
    );
    const capabilities = hash['rid'] === reg.id ? capabilitiesFromFields(Object.keys(hash)) : NO_FACTS;
    this.cache.set(reg.endpoint, { registrationId: reg.id, capabilities });
    return capabilities;
  }

  registered(reg: Registration): void {
    this.cache.set(reg.endpoint, { registrationId: reg.id, capabilities: NO_FACTS });
  }

  async learn(reg: Registration, fact: CapabilityFact): Promise<void> {
    const key = this.keys.capabilitiesByEndpoint(reg.endpoint);
    await redisCall('learn capability', () =>
      this.opts.redis.eval(LEARN, 1, key, reg.id, factField(fact), CAPABILITY_TTL_MS),
    );
    this.cache.delete(reg.endpoint); // read back with what other instances learned
  }
}
