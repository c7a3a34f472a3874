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

export type ToProducer =
  | { readonly type: 'init'; readonly options: ProducerThreadOptions; readonly headers: Readonly<Record<string, string>>; readonly requestEvents: boolean; readonly log: boolean }
  | { readonly type: 'connect'; readonly id: number }
  | { readonly type: 'send'; readonly id: number; readonly records: readonly WireRecord[] }
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
