/**
 * Provisioning records (the compacted `devices` topic) kept in Redis, one key per device under
 * the device's hash tag, so that every instance sees the same assignment. The profile layer's
 * assigner keeps its own bounded cache in front of it.
 */
import type { Redis } from 'ioredis';
import { parseProvisioningRecord, type ProvisioningRecord, type ProvisioningStore } from '../../profile/provisioning';
import { StoreUnavailableError } from '../errors';
import { RedisKeys } from './keys';

export class RedisProvisioningStore implements ProvisioningStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.keys = new RedisKeys(keyPrefix);
  }

  async get(endpoint: string): Promise<ProvisioningRecord | undefined> {
    const text = await this.call('get provisioning', () => this.redis.get(this.keys.provisioningByEndpoint(endpoint)));
    return text === null ? undefined : parseProvisioningRecord(JSON.parse(text), `redis provisioning of ${endpoint}`);
  }

  async put(record: ProvisioningRecord): Promise<void> {
    await this.call('put provisioning', () => this.redis.set(this.keys.provisioningByEndpoint(record.endpoint), JSON.stringify(record)));
  }

  async delete(endpoint: string): Promise<void> {
    await this.call('delete provisioning', () => this.redis.del(this.keys.provisioningByEndpoint(endpoint)));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StoreUnavailableError(`redis ${what} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
}
