/**
 * Groups published records into batches and hands one batch at a time to `send` (Kafka: one
 * `sendBatch`), so that no publish ever costs a round trip of its own.
 *
 * - A batch leaves `lingerMs` after the first record reaches an idle batcher, at once when
 *   `maxBatchRecords` or `maxBatchBytes` are queued, and right after the previous batch when
 *   records queued up while it was in flight. One batch is in flight at a time, so records leave
 *   in publish order and a failed batch is retried, unchanged, before any later record.
 * - `publish()` resolves once every one of its records was acknowledged, in publish order.
 * - A batch that fails is retried in the background with exponential backoff, forever, unless
 *   `isPermanent` says the records can never be taken: then its publishes reject.
 * - Bounded: records and bytes held (queued or in flight) never exceed the limits. Publish fails
 *   fast with BusUnavailableError when they would, and while no batch was acknowledged for
 *   `unavailableAfterMs` although records wait (broker unreachable). The first acknowledged batch
 *   ends that state.
 */
import { BusRejectedError, BusUnavailableError } from './types';
import type { EncodedRecord } from './encode';
import { errorMessage } from '../common/error-message';

export interface BatcherOptions {
  readonly lingerMs: number;
  readonly maxBatchRecords: number;
  /** Also the largest single record accepted. */
  readonly maxBatchBytes: number;
  readonly maxBufferedRecords: number;
  readonly maxBufferedBytes: number;
  readonly unavailableAfterMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Sends one batch; resolves once all of it is acknowledged. */
  readonly send: (batch: readonly EncodedRecord[]) => Promise<void>;
  /** True when a send error means these records can never be accepted. */
  readonly isPermanent?: (err: unknown) => boolean;
  readonly onSendError?: (err: unknown, attempt: number, batchSize: number) => void;
  /** Called once per publish() that resolves: ms from publish() to the acknowledgement. */
  readonly onLatency?: (ms: number) => void;
  readonly now?: () => number;
}

interface Group {
  remaining: number;
  settled: boolean;
  readonly startedAt: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Entry {
  readonly record: EncodedRecord;
  readonly group: Group;
}

export interface BatcherStats {
  readonly bufferedRecords: number;
  readonly bufferedBytes: number;
  readonly published: number;
  readonly failed: number;
  readonly sendErrors: number;
  readonly batches: number;
  readonly available: boolean;
}

export class Batcher {
  private queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inflight: readonly Entry[] = [];
  private bufferedRecords = 0;
  private bufferedBytes = 0;
  private published = 0;
  private failed = 0;
  private sendErrors = 0;
  private batches = 0;
  /** Last acknowledged batch, or when records started waiting on an idle batcher. */
  private progressAt = 0;
  private running = false;
  private closed = false;
  /** Set when close() gave up flushing: stop sending. */
  private gaveUp = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private backoff: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private drainWaiters: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly opts: BatcherOptions) {
    this.now = opts.now ?? Date.now;
  }

  publish(records: readonly EncodedRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const r of records) {
      if (r.bytes > this.opts.maxBatchBytes)
        return this.refuse(
          records.length,
          new BusRejectedError(
            `record for ${r.key} is ${r.bytes} bytes, more than the ${this.opts.maxBatchBytes} allowed`,
          ),
        );
      bytes += r.bytes;
    }
    const refusal = this.refusal(records.length, bytes);
    if (refusal !== undefined) return this.refuse(records.length, refusal);
    const now = this.now();
    if (this.bufferedRecords === 0) this.progressAt = now;
    return new Promise<void>((resolve, reject) => {
      const group: Group = { remaining: records.length, settled: false, startedAt: now, resolve, reject };
      for (const record of records) this.queue.push({ record, group });
      this.queuedBytes += bytes;
      this.bufferedRecords += records.length;
      this.bufferedBytes += bytes;
      this.schedule();
    });
  }

  /** True while publish() would accept a record. */
  available(): boolean {
    return (
      !this.closed &&
      !this.stalled() &&
      this.bufferedRecords < this.opts.maxBufferedRecords &&
      this.bufferedBytes < this.opts.maxBufferedBytes
    );
  }

  stats(): BatcherStats {
    const { bufferedRecords, bufferedBytes, published, failed, sendErrors, batches } = this;
    return { bufferedRecords, bufferedBytes, published, failed, sendErrors, batches, available: this.available() };
  }

  /** Sends what is queued without waiting for the linger; true once nothing is held, false on timeout. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.bufferedRecords === 0) return Promise.resolve(true);
    if (!this.running) void this.run();
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.drainWaiters.push(done);
    });
  }

  /**
   * Refuses new records, flushes for at most `timeoutMs`, then rejects whatever is still held
   * (BusUnavailableError: the caller learns those records were not accepted). True if all flushed.
   */
  async close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    const drained = await this.flush(timeoutMs);
    if (!drained) this.abandon();
    return drained;
  }

  private refusal(count: number, bytes: number): Error | undefined {
    const o = this.opts;
    if (this.closed) return new BusUnavailableError('bus is closed');
    if (count > o.maxBufferedRecords || bytes > o.maxBufferedBytes)
      return new BusRejectedError(`${count} records of ${bytes} bytes exceed the whole buffer`);
    if (this.stalled())
      return new BusUnavailableError(
        `broker has acknowledged nothing for ${this.now() - this.progressAt} ms; ${this.bufferedRecords} records buffered`,
      );
    if (this.bufferedRecords + count > o.maxBufferedRecords || this.bufferedBytes + bytes > o.maxBufferedBytes) {
      return new BusUnavailableError(
        `buffer full: ${this.bufferedRecords} records, ${this.bufferedBytes} bytes buffered`,
      );
    }
    return undefined;
  }

  /** Refuses records that never reached the buffer (counted as failed). */
  refuse(count: number, err: Error): Promise<void> {
    this.failed += count;
    return Promise.reject(err);
  }

  private stalled(): boolean {
    return this.bufferedRecords > 0 && this.now() - this.progressAt > this.opts.unavailableAfterMs;
  }

  private schedule(): void {
    if (this.running) return; // the loop picks the records up after the batch in flight
    if (this.queue.length - this.head >= this.opts.maxBatchRecords || this.queuedBytes >= this.opts.maxBatchBytes) {
      void this.run();
    } else if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => void this.run(), this.opts.lingerMs);
    }
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    try {
      while (this.queue.length > this.head && !this.gaveUp) await this.deliver(this.take());
    } finally {
      this.running = false;
    }
    if (this.bufferedRecords === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  private take(): readonly Entry[] {
    const { maxBatchRecords, maxBatchBytes } = this.opts;
    let end = this.head;
    let bytes = 0;
    while (end < this.queue.length && end - this.head < maxBatchRecords) {
      const b = this.queue[end].record.bytes;
      if (end > this.head && bytes + b > maxBatchBytes) break;
      bytes += b;
      end++;
    }
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    this.queuedBytes -= bytes;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.inflight = batch;
    return batch;
  }

  /** Sends one batch until it is acknowledged, refused for good, or the batcher is abandoned. */
  private async deliver(batch: readonly Entry[]): Promise<void> {
    const records = batch.map((e) => e.record);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.send(records);
      } catch (err) {
        if (this.inflight !== batch) return; // abandoned while in flight: already rejected
        this.sendErrors++;
        if (this.opts.isPermanent?.(err) === true) {
          this.progressAt = this.now(); // the broker answered: it is reachable
          this.settle(batch, new BusRejectedError(`broker refused ${batch.length} records: ${errorMessage(err)}`, err));
          return;
        }
        this.opts.onSendError?.(err, attempt, batch.length);
        await this.pause(Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** Math.min(attempt, 20)));
        if (this.inflight !== batch) return;
        continue;
      }
      if (this.inflight !== batch) return;
      this.progressAt = this.now();
      this.batches++;
      this.published += batch.length;
      this.settle(batch, undefined);
      return;
    }
  }

  /** Releases a batch from the buffer, resolving (err undefined) or rejecting its publishes. */
  private settle(batch: readonly Entry[], err: Error | undefined): void {
    this.inflight = [];
    const now = this.now();
    for (const { record, group } of batch) {
      this.bufferedRecords--;
      this.bufferedBytes -= record.bytes;
      group.remaining--;
      if (err !== undefined) this.failed++;
      if (group.settled) continue;
      if (err !== undefined) {
        group.settled = true;
        group.reject(err);
      } else if (group.remaining === 0) {
        group.settled = true;
        this.opts.onLatency?.(now - group.startedAt);
        group.resolve();
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.backoff = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.backoff = { timer, wake };
    });
  }

  /** Rejects everything still held: the flush on close ran out of time. */
  private abandon(): void {
    this.gaveUp = true;
    const held = [...this.inflight, ...this.queue.slice(this.head)];
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.settle(held, new BusUnavailableError(`bus closed before ${held.length} records were accepted`));
    this.backoff?.wake();
  }
}
