/**
 * The bus the bridge publishes to and consumes provisioning from. Kafka in production, an
 * in-process bus in embedded mode. Small on purpose, so that it can be swapped.
 */
import { BridgeError } from '../common/errors';

export interface BusRecord {
  readonly topic: string;
  /** The endpoint name: keeps each device's records in order. */
  readonly key: string;
  /** A JSON-serialisable value; null publishes a tombstone (no value: deletes the key of a compacted topic). */
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ConsumedRecord {
  readonly topic: string;
  readonly key: string | null;
  /** Raw value; null for a tombstone (compacted topics). */
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly offset: string;
  readonly timestamp: number;
}

/** The bus cannot take records now (buffer full, broker unreachable): try again later. */
export class BusUnavailableError extends BridgeError {
  constructor(message: string) {
    super('BUS_UNAVAILABLE', message, { retriable: true });
  }
}

/**
 * The bus refused these records for good (too large, not JSON, rejected by the broker as
 * malformed): retrying the same records cannot succeed.
 */
export class BusRejectedError extends BridgeError {
  constructor(message: string, cause?: unknown) {
    super('BUS_REJECTED', message, { retriable: false, cause });
  }
}

/**
 * A consumer handler could not take the record now (its store is unreachable and the bridge is
 * stopping): the record's offset must not be committed, so that another member takes it.
 */
export class RecordNotTakenError extends BridgeError {
  constructor(message: string) {
    super('RECORD_NOT_TAKEN', message, { retriable: true });
  }
}

export interface BusStats {
  /** Records waiting to be sent, including those of the batch in flight. */
  readonly bufferedRecords: number;
  readonly bufferedBytes: number;
  /** Records acknowledged by the bus (Kafka: acks = all). */
  readonly published: number;
  /** Records whose publish() was rejected (buffer full, unavailable, refused, closed). */
  readonly failed: number;
  /** True while the broker is reachable and the buffer has room. */
  readonly available: boolean;
  /** Send attempts that failed (a batch is retried until taken, so one batch can count several times). */
  readonly sendErrors: number;
}

export interface Bus {
  /**
   * Resolves once every record is accepted by the bus (Kafka: acknowledged with acks = all).
   * Rejects with BusUnavailableError (retriable: buffer full, broker unreachable for too long,
   * bus closed) or BusRejectedError (never retriable: too large, not JSON, refused by the broker).
   * All or nothing per call as far as refusal goes: a refused call buffered none of its records.
   */
  publish(records: readonly BusRecord[]): Promise<void>;
  /**
   * Reads a (compacted) topic from its beginning and then follows it; `handler` is awaited per
   * record. Resolves once the records present at subscription time have been handled.
   */
  follow(topic: string, handler: (record: ConsumedRecord) => Promise<void> | void): Promise<void>;
  /**
   * Reads a topic as one member of consumer group `groupId` (each record reaches one member), at
   * least once: a record counts as read once `handler` resolved. Records with the same key are
   * handled one at a time in order; records with different keys may be handled concurrently.
   * Resolves once subscribed.
   */
  consume(topic: string, groupId: string, handler: (record: ConsumedRecord) => Promise<void> | void): Promise<void>;
  stats(): BusStats;
  /** Flushes what is buffered (bounded by `timeoutMs`) and disconnects. */
  close(timeoutMs?: number): Promise<void>;
}
