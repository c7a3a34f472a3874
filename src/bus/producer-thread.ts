/**
 * The Kafka producer on a thread of its own (worker_threads), seen from the bus as a
 * ProducerPort. kafkajs spends most of its time encoding records, partitioning and compressing;
 * on its own thread that work runs beside the CoAP path instead of in its way. A batch crosses
 * as plain arrays of JSON text; the result comes back with the broker's error types, so that the
 * bus classifies errors (kafka-errors.ts) exactly as it would in-thread.
 *
 * A thread that dies fails what it was sending (retriable: the batcher sends it again) and the
 * next call starts a new one.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../common/worker-script';
import type { BusLog } from './kafka-config';
import type { ProducerPort, ProducerRecord, ProducerRequestInfo } from './kafka-producer';
import {
  packRecords,
  type FromProducer,
  type ProducerThreadOptions,
  type ToProducer,
  type WireError,
  type WireRecord,
} from './producer-protocol';
import { BusUnavailableError } from './types';

export interface ProducerThreadConfig {
  readonly options: ProducerThreadOptions;
  readonly headers: Readonly<Record<string, string>>;
  readonly log?: BusLog;
  readonly onRequest?: (info: ProducerRequestInfo) => void;
  /** The worker script; default: producer-worker.js beside this module, or in dist/ when running from sources. */
  readonly script?: string;
}

/** An error of the producer thread, carrying the broker error types as kafkajs errors do (type, cause). */
export class ProducerThreadError extends Error {
  readonly type: string | undefined;

  constructor(message: string, types: readonly string[]) {
    super(message, types.length > 1 ? { cause: new ProducerThreadError(message, types.slice(1)) } : undefined);
    this.name = 'ProducerThreadError';
    this.type = types[0];
  }
}

const DISCONNECT_TIMEOUT_MS = 5_000;

type Pending = { readonly resolve: () => void; readonly reject: (err: Error) => void };

type Request = ToProducer extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class ProducerThread implements ProducerPort {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private isConnected = false;
  private readonly script: string;

  constructor(private readonly config: ProducerThreadConfig) {
    this.script = config.script ?? defaultScript();
  }

  connected(): boolean {
    return this.isConnected;
  }

  connect(): Promise<void> {
    return this.call({ type: 'connect' });
  }

  send(batch: readonly ProducerRecord[]): Promise<void> {
    // The default headers are the thread's own (sent once, at init): a record carries only its own.
    const defaults = this.config.headers;
    const records: WireRecord[] = batch.map((r) => [
      r.topic,
      r.key,
      r.value,
      r.headers === defaults ? undefined : r.headers,
    ]);
    return this.call({ type: 'send', records: packRecords(records) ?? records });
  }

  /** Disconnects the producer gracefully when connected (bounded), then ends the thread. */
  async disconnect(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    try {
      if (this.isConnected) {
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, DISCONNECT_TIMEOUT_MS)));
        await Promise.race([this.call({ type: 'disconnect' }).catch(() => undefined), bound]).finally(() =>
          clearTimeout(timer),
        );
      }
    } finally {
      this.worker = undefined;
      this.isConnected = false;
      await worker.terminate();
    }
  }

  private call(request: Request): Promise<void> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } as ToProducer);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const { options, headers, log, onRequest } = this.config;
    const worker = new Worker(this.script);
    const init: ToProducer = {
      type: 'init',
      options,
      headers,
      requestEvents: onRequest !== undefined,
      log: log !== undefined,
    };
    worker.postMessage(init);
    worker.on('message', (m: FromProducer) => this.onMessage(m));
    worker.on('error', (err: Error) => log?.error({ err: err.message }, 'kafka producer thread failed'));
    worker.on('exit', (code: number) => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.isConnected = false;
      }
      this.failPending(new BusUnavailableError(`kafka producer thread exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(m: FromProducer): void {
    switch (m.type) {
      case 'done': {
        this.isConnected = m.connected;
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        if (m.error === undefined) p.resolve();
        else p.reject(threadError(m.error));
        return;
      }
      case 'log':
        this.config.log?.[m.level](m.obj, m.msg);
        return;
      case 'request':
        this.config.onRequest?.({ apiName: m.apiName, size: m.size, durationMs: m.durationMs });
        return;
    }
  }

  private failPending(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }
}

function threadError(e: WireError): Error {
  return new ProducerThreadError(e.message, e.types);
}

function defaultScript(): string {
  return workerScript(
    __dirname,
    'producer-worker.js',
    'the Kafka producer thread (or set KAFKA_PRODUCER_THREAD=false)',
  );
}
