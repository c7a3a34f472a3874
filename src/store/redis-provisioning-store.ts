/**
 * Provisioning records (the compacted `devices` topic) kept in Redis, one key per device under
 * the device's hash tag, so that every instance sees the same assignment. The profile layer's
 * assigner keeps its own bounded cache in front of it.
 */
import type { RedisClient } from './redis-io';
import { parseProvisioningRecord, type ProvisioningRecord, type ProvisioningStore } from '../profile/provisioning';
import { credentialKey, sameCredentialKey, type CredentialKind } from '../security/credentials';
import { redisCall } from './redis-call';
import { RedisKeys } from './keys';

export class RedisProvisioningStore implements ProvisioningStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
  ) {
    this.keys = new RedisKeys(keyPrefix);
  }

  async get(endpoint: string): Promise<ProvisioningRecord | undefined> {
    const text = await redisCall('get provisioning', () => this.redis.get(this.keys.provisioningByEndpoint(endpoint)));
    return text === null ? undefined : parseProvisioningRecord(JSON.parse(text), `redis provisioning of ${endpoint}`);
  }

  /** The record, then its credential index; a credential the record no longer has is unindexed. */
  async put(record: ProvisioningRecord): Promise<void> {
    const before = await this.get(record.endpoint).catch(() => undefined);
    await redisCall('put provisioning', () =>
      this.redis.set(this.keys.provisioningByEndpoint(record.endpoint), JSON.stringify(record)),
    );
    const key = credentialKey(record.endpoint, record.credentials);
    const old = before === undefined ? undefined : credentialKey(before.endpoint, before.credentials);
    if (old !== undefined && !sameCredentialKey(old, key)) await this.unindex(old, record.endpoint);
    if (key !== undefined)
      await redisCall('index credential', () =>
        this.redis.set(this.keys.endpointByCredential(key.kind, key.id), record.endpoint),
      );
  }

  async delete(endpoint: string): Promise<void> {
    const before = await this.get(endpoint).catch(() => undefined);
    await redisCall('delete provisioning', () => this.redis.del(this.keys.provisioningByEndpoint(endpoint)));
    const old = before === undefined ? undefined : credentialKey(endpoint, before.credentials);
    if (old !== undefined) await this.unindex(old, endpoint);
  }

  /** The index is a hint: the record found through it must still carry the credential. */
  async findByCredential(kind: CredentialKind, id: string): Promise<ProvisioningRecord | undefined> {
    const endpoint = await redisCall('find credential', () => this.redis.get(this.keys.endpointByCredential(kind, id)));
    if (endpoint === null) return undefined;
    const record = await this.get(endpoint);
    return record !== undefined && sameCredentialKey(credentialKey(record.endpoint, record.credentials), { kind, id })
      ? record
      : undefined;
  }

  private async unindex(old: { kind: CredentialKind; id: string }, endpoint: string): Promise<void> {
    const key = this.keys.endpointByCredential(old.kind, old.id);
    const current = await redisCall('read credential index', () => this.redis.get(key));
    if (current === endpoint) await redisCall('unindex credential', () => this.redis.del(key));
  }
}
