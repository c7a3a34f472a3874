/**
 * The bus the bridge publishes to and consumes provisioning from. Kafka in production, an
 * in-process bus in embedded mode. Small on purpose, so that it can be swapped.
 */
import { BridgeError } from '../errors';

export interface BusRecord {
  readonly topic: string;
  /** The endpoint name: keeps each device's records in order. */
  readonly key: string;
  /** A JSON-serialisable value. */
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

export interface BusStats {
  /** Records waiting to be sent. */
  readonly bufferedRecords: number;
  readonly bufferedBytes: number;
  readonly published: number;
  readonly failed: number;
  /** True while the broker is reachable and the buffer has room. */
  readonly available: boolean;
}

export interface Bus {
  /** Resolves once every record is accepted by the bus; rejects with BusUnavailableError when full. */
  publish(records: readonly BusRecord[]): Promise<void>;
  /**
   * Reads a (compacted) topic from its beginning and then follows it; `handler` is awaited per
   * record. Resolves once the records present at subscription time have been handled.
   */
  follow(topic: string, handler: (record: ConsumedRecord) => Promise<void> | void): Promise<void>;
  stats(): BusStats;
  /** Flushes what is buffered (bounded by `timeoutMs`) and disconnects. */
  close(timeoutMs?: number): Promise<void>;
}
