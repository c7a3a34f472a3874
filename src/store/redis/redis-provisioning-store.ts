/**
 * Provisioning records (the compacted `devices` topic) kept in Redis, one key per device under
 * the device's hash tag, so that every instance sees the same assignment. The profile layer's
 * assigner keeps its own bounded cache in front of it.
 */
import type { Redis } from 'ioredis';
import { parseProvisioningRecord, type ProvisioningRecord, type ProvisioningStore } from '../../profile/provisioning';
import { pskIdentityOf } from '../../security/credentials';
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

  /** The record, then its PSK identity index; an identity the record no longer has is unindexed. */
  async put(record: ProvisioningRecord): Promise<void> {
    const before = await this.get(record.endpoint).catch(() => undefined);
    await this.call('put provisioning', () => this.redis.set(this.keys.provisioningByEndpoint(record.endpoint), JSON.stringify(record)));
    const identity = pskIdentityOf(record.credentials);
    const old = pskIdentityOf(before?.credentials);
    if (old !== undefined && old !== identity) await this.unindex(old, record.endpoint);
    if (identity !== undefined) await this.call('index psk identity', () => this.redis.set(this.keys.endpointByPskIdentity(identity), record.endpoint));
  }

  async delete(endpoint: string): Promise<void> {
    const before = await this.get(endpoint).catch(() => undefined);
    await this.call('delete provisioning', () => this.redis.del(this.keys.provisioningByEndpoint(endpoint)));
    const old = pskIdentityOf(before?.credentials);
    if (old !== undefined) await this.unindex(old, endpoint);
  }

  /** The index is a hint: the record found through it must still carry the identity. */
  async findByPskIdentity(identity: string): Promise<ProvisioningRecord | undefined> {
    const endpoint = await this.call('find psk identity', () => this.redis.get(this.keys.endpointByPskIdentity(identity)));
    if (endpoint === null) return undefined;
    const record = await this.get(endpoint);
    return pskIdentityOf(record?.credentials) === identity ? record : undefined;
  }

  private async unindex(identity: string, endpoint: string): Promise<void> {
    const key = this.keys.endpointByPskIdentity(identity);
    const current = await this.call('read psk identity', () => this.redis.get(key));
    if (current === endpoint) await this.call('unindex psk identity', () => this.redis.del(key));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StoreUnavailableError(`redis ${what} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
}
