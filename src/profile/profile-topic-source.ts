/**
 * Profiles from a compacted topic (default "profiles"): record key = profile name, value = the
 * profile document as JSON, a tombstone (null value) withdraws the profile. Every instance reads
 * the whole topic from its beginning and then follows it (Bus.follow). A bad record is reported
 * and skipped; it never stops the consumer.
 */
import type { Bus, ConsumedRecord } from '../bus/types';
import { ProfileError } from './errors';
import type { ProfileRegistry, ProfileSource } from './profile-registry';
import { parseProfile } from './schema';
import { errorMessage } from '../common/error-message';

export interface ProfileTopicSourceOptions {
  readonly bus: Pick<Bus, 'follow'>;
  readonly topic: string;
  readonly registry: ProfileRegistry;
  readonly onError?: (err: unknown, context: string) => void;
}

export class ProfileTopicSource implements ProfileSource {
  private readonly origin: string;

  constructor(private readonly opts: ProfileTopicSourceOptions) {
    this.origin = `topic:${opts.topic}`;
  }

  start(): Promise<void> {
    return this.opts.bus.follow(this.opts.topic, (record) => this.handle(record));
  }

  async stop(): Promise<void> {
    // The bus owns the consumer; closing the bus ends the subscription.
  }

  /** Applies one record; exposed for tests and for buses that push records themselves. */
  handle(record: ConsumedRecord): void {
    const where = `${this.origin} offset ${record.offset}`;
    try {
      if (record.value === null) {
        if (record.key === null) throw new ProfileError(`tombstone without key at ${where}`);
        this.opts.registry.delete(record.key, this.origin);
        return;
      }
      let doc: unknown;
      try {
        doc = JSON.parse(record.value.toString('utf8'));
      } catch (err) {
        throw new ProfileError(`record at ${where} is not valid JSON: ${errorMessage(err)}`);
      }
      const def = parseProfile(doc, where);
      if (record.key !== null && record.key !== def.name) {
        throw new ProfileError(
          `record at ${where} has key "${record.key}" but names profile "${def.name}"; the key must be the profile name`,
        );
      }
      if (this.opts.registry.put(def, this.origin) === 'stale') {
        throw new ProfileError(`profile "${def.name}" at ${where} is older than the one already received; ignored`);
      }
    } catch (err) {
      this.opts.onError?.(err, `profile record at ${where}`);
    }
  }
}
