/**
 * Messages between the end-to-end benchmark and its Kafka consumer process (bench/e2e-consumer.ts).
 */
import type { LatencySummary } from './stats';

export type ConsumerCommand =
  | {
      readonly kind: 'start';
      readonly brokers: readonly string[];
      readonly topic: string;
      readonly groupId: string;
      readonly epochMs: number;
    }
  /** Waits (at most timeoutMs) until read up to `until` (high watermarks), then summarises [t0Ms, t1Ms) and forgets what it read. */
  | {
      readonly kind: 'collect';
      readonly t0Ms: number;
      readonly t1Ms: number;
      readonly until: ReadonlyArray<{ readonly partition: number; readonly offset: number }>;
      readonly timeoutMs: number;
    }
  /** Stops fetching (deferred mode: the consumer takes no CPU during a measured window) / fetches again. */
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  | { readonly kind: 'stop' };

export interface ConsumedWindow {
  /** Notification records read since the last collect. */
  readonly notifyRecordsRead: number;
  /** Other records on the topic (the first value of each observation, op "observe"). */
  readonly otherRecords: number;
  readonly unparsable: number;
  /** Whether every partition was read up to the offsets asked for. */
  readonly reachedOffsets: boolean;
  readonly waitedMs: number;
  /** Notification records whose broker append time falls in the window: the throughput count. */
  readonly appendedInWindow: number;
  /** Notification records sent in the window (by their value), found on the topic. */
  readonly sentInWindow: number;
  /** Append time (broker, ms resolution) - send time, for records sent in the window. */
  readonly appendLatency: LatencySummary;
  /** Time this consumer got the record - send time (adds the fetch path). */
  readonly consumeLatency: LatencySummary;
}

export type ConsumerReply =
  | { readonly kind: 'started' }
  | { readonly kind: 'collected'; readonly result: ConsumedWindow }
  | { readonly kind: 'paused' }
  | { readonly kind: 'resumed' }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly message: string };
