/**
 * Provisioning records from a compacted topic (default "devices"): key = endpoint name, value =
 * `{endpoint, profile?, credentials?, ...}` as JSON, a tombstone removes the record. Each record
 * is stored through the ProvisioningStore, the assigner's cache is invalidated and listeners
 * hear which endpoint changed (to set a connected device up again). Bad records are reported by
 * field name only: a record may carry credentials.
 */
import type { Bus, ConsumedRecord } from '../bus/types';
import { ProfileError } from './errors';
import { parseProvisioningRecord, type ProfileAssigner } from './provisioning';

export interface ProvisioningTopicSourceOptions {
  readonly bus: Pick<Bus, 'follow'>;
  readonly topic: string;
  readonly assigner: ProfileAssigner;
  readonly onError?: (err: unknown, context: string) => void;
  /** Called after a record for `endpoint` was stored or removed. */
  readonly onChange?: (endpoint: string) => void;
}

export class ProvisioningTopicSource {
  constructor(private readonly opts: ProvisioningTopicSourceOptions) {}

  /** Resolves once the records present at start are stored. */
  start(): Promise<void> {
    return this.opts.bus.follow(this.opts.topic, (record) => this.handle(record));
  }

  async handle(record: ConsumedRecord): Promise<void> {
    const where = `topic:${this.opts.topic} offset ${record.offset}`;
    try {
      const endpoint = await this.apply(record, where);
      this.opts.assigner.invalidate(endpoint);
      this.opts.onChange?.(endpoint);
    } catch (err) {
      this.opts.onError?.(err, `provisioning record at ${where}`);
    }
  }

  private async apply(record: ConsumedRecord, where: string): Promise<string> {
    const store = this.opts.assigner.store;
    if (record.value === null) {
      if (record.key === null) throw new ProfileError(`tombstone without key at ${where}`);
      await store.delete(record.key);
      return record.key;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(record.value.toString('utf8'));
    } catch {
      throw new ProfileError(`provisioning record at ${where} is not valid JSON`); // no parser detail: it may quote the content
    }
    const rec = parseProvisioningRecord(doc, where);
    if (record.key !== null && record.key !== rec.endpoint) {
      throw new ProfileError(
        `provisioning record at ${where} has key "${record.key}" but endpoint "${rec.endpoint}"; the key must be the endpoint`,
      );
    }
    await store.put(rec);
    return rec.endpoint;
  }
}
