/**
 * The in-process Bus of embedded mode (no brokers configured) and of tests.
 *
 * - publish() accepts at once, keeps the most recent records in a bounded ring (for the HTTP API
 *   and tests) and logs records at info, so that a newcomer sees data flowing. The log is rate
 *   limited (logRecordsPerSecond, default 20): beyond it, one line per second says how many
 *   records were not logged, so a load test does not turn into a logging test.
 * - Compacted topics (compactedTopics; every topic when not given) also keep the latest record per
 *   key, bounded, so follow() reads such a topic from its beginning as it would a compacted
 *   Kafka topic, then follows new records. Other topics are only followed from now on.
 * - Records go through the same encoding as on Kafka (headers, JSON, size), so what the memory
 *   bus accepts the Kafka bus accepts too.
 */
import { defaultHeaders, encodeRecords, type EncodedRecord } from './encode';
import type { BusLog } from './kafka-config';
import { BusUnavailableError, type Bus, type BusRecord, type BusStats, type ConsumedRecord } from './types';
import { errorMessage } from '../common/error-message';

export interface MemoryBusOptions {
  readonly instanceId?: string;
  /** Most recent records kept for records(); default 1000. */
  readonly maxRecords?: number;
  /** Topics kept compacted for follow(); default: every topic. */
  readonly compactedTopics?: readonly string[];
  /** Keys kept per topic for follow(), oldest dropped first; default 100,000. */
  readonly maxKeysPerTopic?: number;
  /** Records are logged here at info (embedded mode). */
  readonly log?: BusLog;
  /** Records logged per second at most; the rest are counted in one line per second. Default 20. */
  readonly logRecordsPerSecond?: number;
  /** Clock for the log rate limit (tests). */
  readonly now?: () => number;
}

/** A record as the memory bus keeps it: the consumed form plus the value as published. */
export interface StoredRecord extends ConsumedRecord {
  readonly published: unknown;
}

type Handler = (record: ConsumedRecord) => Promise<void> | void;

/** A stored record whose value bytes are made when first read: most records are never read back. */
class Stored implements StoredRecord {
  readonly topic: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  private bytes: Buffer | null | undefined;

  constructor(
    private readonly encoded: EncodedRecord,
    readonly offset: string,
    readonly timestamp: number,
    readonly published: unknown,
  ) {
    this.topic = encoded.topic;
    this.key = encoded.key;
    this.headers = encoded.headers;
  }

  get value(): Buffer | null {
    if (this.bytes === undefined)
      this.bytes = this.encoded.value === null ? null : Buffer.from(this.encoded.value, 'utf8');
    return this.bytes;
  }
}

interface Follower {
  readonly topic: string;
  readonly handler: Handler;
  /** Deliveries to this follower, one after the other. */
  chain: Promise<void>;
}

export class MemoryBus implements Bus {
  private readonly ring: StoredRecord[] = [];
  private ringStart = 0;
  private readonly compacted = new Map<string, Map<string, StoredRecord>>();
  private readonly offsets = new Map<string, number>();
  private readonly followers: Follower[] = [];
  private readonly headers: Readonly<Record<string, string>>;
  private readonly maxRecords: number;
  private readonly maxKeys: number;
  private readonly compactedTopics: ReadonlySet<string> | undefined;
  private published = 0;
  private failed = 0;
  private closed = false;
  private logWindowStart = 0;
  private loggedInWindow = 0;
  private unloggedInWindow = 0;

  constructor(private readonly opts: MemoryBusOptions = {}) {
    this.headers = defaultHeaders(opts.instanceId ?? 'embedded');
    this.maxRecords = Math.max(1, opts.maxRecords ?? 1000);
    this.maxKeys = opts.maxKeysPerTopic ?? 100_000;
    this.compactedTopics = opts.compactedTopics === undefined ? undefined : new Set(opts.compactedTopics);
  }

  async publish(records: readonly BusRecord[]): Promise<void> {
    if (this.closed) {
      this.failed += records.length;
      throw new BusUnavailableError('bus is closed');
    }
    let encoded: EncodedRecord[];
    try {
      encoded = encodeRecords(records, this.headers);
    } catch (err) {
      this.failed += records.length;
      throw err;
    }
    const deliveries: Promise<void>[] = [];
    encoded.forEach((e, i) => {
      const stored = this.store(e, records[i]?.value);
      this.logRecord(stored);
      for (const f of this.followers) if (f.topic === stored.topic) deliveries.push(this.deliver(f, stored));
    });
    this.published += records.length;
    // Like Kafka's acks, publish does not wait for consumers; deliveries run on their own.
    void Promise.all(deliveries);
  }

  async follow(topic: string, handler: Handler): Promise<void> {
    if (this.closed) throw new BusUnavailableError('bus is closed');
    const follower: Follower = { topic, handler, chain: Promise.resolve() };
    const existing = [...(this.compacted.get(topic)?.values() ?? [])].sort(
      (a, b) => Number(a.offset) - Number(b.offset),
    );
    for (const r of existing) void this.deliver(follower, r);
    this.followers.push(follower);
    await follower.chain;
  }

  /** One process, so one member: records published from now on, each handled once, in order. */
  consume(topic: string, _groupId: string, handler: Handler): Promise<void> {
    return this.follow(topic, handler);
  }

  /** The most recent records, oldest first, optionally of one topic. */
  records(topic?: string): StoredRecord[] {
    const all = [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
    return topic === undefined ? all : all.filter((r) => r.topic === topic);
  }

  stats(): BusStats {
    return {
      bufferedRecords: 0,
      bufferedBytes: 0,
      published: this.published,
      failed: this.failed,
      sendErrors: 0,
      available: !this.closed,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.followers.map((f) => f.chain));
    this.followers.length = 0;
  }

  private logRecord(stored: StoredRecord): void {
    const log = this.opts.log;
    if (log === undefined) return;
    const now = (this.opts.now ?? Date.now)();
    if (now - this.logWindowStart >= 1000) {
      if (this.unloggedInWindow > 0)
        log.info({ records: this.unloggedInWindow }, 'bus records not logged (rate limit)');
      this.logWindowStart = now;
      this.loggedInWindow = 0;
      this.unloggedInWindow = 0;
    }
    if (this.loggedInWindow >= (this.opts.logRecordsPerSecond ?? 20)) {
      this.unloggedInWindow++;
      return;
    }
    this.loggedInWindow++;
    log.info({ topic: stored.topic, key: stored.key, value: stored.published }, 'bus record');
  }

  private store(e: EncodedRecord, published: unknown): StoredRecord {
    const offset = this.offsets.get(e.topic) ?? 0;
    this.offsets.set(e.topic, offset + 1);
    const stored = new Stored(e, String(offset), Date.now(), published);
    if (this.ring.length < this.maxRecords) {
      this.ring.push(stored);
    } else {
      this.ring[this.ringStart] = stored;
      this.ringStart = (this.ringStart + 1) % this.maxRecords;
    }
    if (this.compactedTopics !== undefined && !this.compactedTopics.has(e.topic)) return stored;
    let keys = this.compacted.get(e.topic);
    if (keys === undefined) this.compacted.set(e.topic, (keys = new Map()));
    keys.delete(e.key); // re-inserted last: the map stays in publish order
    if (e.value === null) return stored; // tombstone: the key is gone once compacted
    keys.set(e.key, stored);
    if (keys.size > this.maxKeys) {
      const oldest = keys.keys().next();
      if (oldest.done !== true) keys.delete(oldest.value);
    }
    return stored;
  }

  private deliver(f: Follower, record: ConsumedRecord): Promise<void> {
    f.chain = f.chain.then(async () => {
      try {
        await f.handler(record);
      } catch (err) {
        this.opts.log?.warn(
          { topic: record.topic, key: record.key, offset: record.offset, err: errorMessage(err) },
          'follow handler failed; record skipped',
        );
      }
    });
    return f.chain;
  }
}
