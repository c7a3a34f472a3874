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
import { TtlLruCache } from '../common/lru-cache';

/**
 * A Register reads the device's record twice within milliseconds: the registration check (a
 * provisioned endpoint only over DTLS, LwM2M-Core 1.2 §7.1) and the profile assignment. Reads of
 * one endpoint within RECENT_MS share one GET; this instance's own writes drop the shared read.
 * Records come from the devices topic, which every instance follows: they reach Redis
 * asynchronously anyway, and RECENT_MS adds at most that to how late a change is seen.
 */
const RECENT_MS = 1000;
const RECENT_MAX = 10_000;

export class RedisProvisioningStore implements ProvisioningStore {
  private readonly keys: RedisKeys;
  private readonly recent: TtlLruCache<Promise<ProvisioningRecord | undefined>>;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    recentMs = RECENT_MS,
  ) {
    this.keys = new RedisKeys(keyPrefix);
    this.recent = new TtlLruCache(RECENT_MAX, recentMs);
  }

  get(endpoint: string): Promise<ProvisioningRecord | undefined> {
    const shared = this.recent.get(endpoint);
    if (shared !== undefined) return shared;
    const read = this.read(endpoint);
    this.recent.set(endpoint, read);
    read.catch(() => this.recent.delete(endpoint)); // a failed read is not shared
    return read;
  }

  private async read(endpoint: string): Promise<ProvisioningRecord | undefined> {
    const text = await redisCall('get provisioning', () => this.redis.get(this.keys.provisioningByEndpoint(endpoint)));
    return text === null ? undefined : parseProvisioningRecord(JSON.parse(text), `redis provisioning of ${endpoint}`);
  }

  /** The record, then its credential index; a credential the record no longer has is unindexed. */
  async put(record: ProvisioningRecord): Promise<void> {
    const before = await this.read(record.endpoint).catch(() => undefined);
    this.recent.delete(record.endpoint);
    await redisCall('put provisioning', () =>
      this.redis.set(this.keys.provisioningByEndpoint(record.endpoint), JSON.stringify(record)),
    ).finally(() => this.recent.delete(record.endpoint));
    const key = credentialKey(record.endpoint, record.credentials);
    const old = before === undefined ? undefined : credentialKey(before.endpoint, before.credentials);
    if (old !== undefined && !sameCredentialKey(old, key)) await this.unindex(old, record.endpoint);
    if (key !== undefined)
      await redisCall('index credential', () =>
        this.redis.set(this.keys.endpointByCredential(key.kind, key.id), record.endpoint),
      );
  }

  async delete(endpoint: string): Promise<void> {
    const before = await this.read(endpoint).catch(() => undefined);
    this.recent.delete(endpoint);
    await redisCall('delete provisioning', () => this.redis.del(this.keys.provisioningByEndpoint(endpoint))).finally(
      () => this.recent.delete(endpoint),
    );
    const old = before === undefined ? undefined : credentialKey(endpoint, before.credentials);
    if (old !== undefined) await this.unindex(old, endpoint);
  }

  /** The index is a hint: the record found through it must still carry the credential. */
  async findByCredential(kind: CredentialKind, id: string): Promise<ProvisioningRecord | undefined> {
    const endpoint = await redisCall('find credential', () => this.redis.get(this.keys.endpointByCredential(kind, id)));
    if (endpoint === null) return undefined;
    const record = await this.read(endpoint); // a handshake's key is read fresh, never shared
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
