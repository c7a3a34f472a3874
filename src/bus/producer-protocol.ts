/**
 * Messages between the bus (main thread) and the producer thread (producer-worker.ts). All plain
 * data: a batch crosses as arrays, an error as its message and the chain of broker error types
 * (what kafka-errors.ts classifies), so the main thread decides about errors as if in-thread.
 */
import type { KafkaBusOptions } from './kafka-config';
import type { ProducerRequestInfo } from './kafka-producer';

/** The options the producer thread needs: the serialisable part of KafkaBusOptions. */
export type ProducerThreadOptions = Omit<KafkaBusOptions, 'log' | 'onProduceLatency' | 'onProducerRequest'>;

/** [topic, key, value (JSON text or null), headers (undefined: the defaults)] */
export type WireRecord = readonly [string, string, string | null, Readonly<Record<string, string>> | undefined];

/**
 * A batch packed into one string, which crosses threads as one copy instead of a structured
 * clone of many small objects: per record four fields, topic, key, value ('' for a tombstone:
 * JSON text is never empty) and headers ('' for the defaults, else their JSON), each field
 * followed by NUL. JSON text never holds a raw NUL and topic names cannot; a key with one is
 * sent as WireRecords instead.
 */
const SEP = '\u0000';

export function packRecords(records: readonly WireRecord[]): string | undefined {
  let out = '';
  for (const [topic, key, value, headers] of records) {
    if (key.includes(SEP)) return undefined;
    out += topic + SEP + key + SEP + (value ?? '') + SEP + (headers === undefined ? '' : JSON.stringify(headers)) + SEP;
  }
  return out;
}

export function unpackRecords(packed: string): WireRecord[] {
  const fields = packed.split(SEP);
  const out: WireRecord[] = [];
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const value = fields[i + 2] as string;
    const headers = fields[i + 3] as string;
    out.push([
      fields[i] as string,
      fields[i + 1] as string,
      value === '' ? null : value,
      headers === '' ? undefined : (JSON.parse(headers) as Record<string, string>),
    ]);
  }
  return out;
}

export type ToProducer =
  | {
      readonly type: 'init';
      readonly options: ProducerThreadOptions;
      readonly headers: Readonly<Record<string, string>>;
      readonly requestEvents: boolean;
      readonly log: boolean;
    }
  | { readonly type: 'connect'; readonly id: number }
  | { readonly type: 'send'; readonly id: number; readonly records: readonly WireRecord[] | string }
  | { readonly type: 'disconnect'; readonly id: number };

export interface WireError {
  readonly message: string;
  /** Broker error types, outermost first (kafka-errors.ts errorTypes). */
  readonly types: readonly string[];
}

export type FromProducer =
  | { readonly type: 'done'; readonly id: number; readonly connected: boolean; readonly error?: WireError }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly obj: object; readonly msg: string }
  | ({ readonly type: 'request' } & ProducerRequestInfo);
