/**
 * The producer thread's entry (worker_threads): one KafkaProducer, driven by messages from
 * ProducerThread (producer-thread.ts). kafkajs logs are forwarded to the main thread's logger.
 */
import { parentPort } from 'node:worker_threads';
import { createKafkaClient, resolveKafkaBusOptions } from './kafka-config';
import { errorTypes } from './kafka-errors';
import { KafkaProducer, type ProducerRecord } from './kafka-producer';
import {
  unpackRecords,
  type FromProducer,
  type ToProducer,
  type WireError,
  type WireRecord,
} from './producer-protocol';
import { errorMessage } from '../common/error-message';

const port = parentPort;
if (port === null) throw new Error('producer-worker.js runs as a worker thread only');

const post = (m: FromProducer): void => port.postMessage(m);
let producer: KafkaProducer | undefined;

function wireError(err: unknown): WireError {
  return { message: errorMessage(err), types: errorTypes(err) };
}

function toRecord([topic, key, value, headers]: WireRecord): ProducerRecord {
  return headers === undefined ? { topic, key, value } : { topic, key, value, headers };
}

function run(id: number, work: (p: KafkaProducer) => Promise<void>): void {
  const p = producer;
  if (p === undefined) {
    post({ type: 'done', id, connected: false, error: { message: 'producer thread not initialised', types: [] } });
    return;
  }
  work(p).then(
    () => post({ type: 'done', id, connected: p.connected() }),
    (err: unknown) => post({ type: 'done', id, connected: p.connected(), error: wireError(err) }),
  );
}

port.on('message', (m: ToProducer) => {
  switch (m.type) {
    case 'init': {
      const log = m.log
        ? {
            info: (obj: object, msg: string) => post({ type: 'log', level: 'info', obj, msg }),
            warn: (obj: object, msg: string) => post({ type: 'log', level: 'warn', obj, msg }),
            error: (obj: object, msg: string) => post({ type: 'log', level: 'error', obj, msg }),
          }
        : undefined;
      const opts = resolveKafkaBusOptions({ ...m.options, ...(log !== undefined ? { log } : {}) });
      const onRequest = m.requestEvents
        ? (info: { apiName: string; size: number; durationMs: number }) => post({ type: 'request', ...info })
        : undefined;
      producer = new KafkaProducer(createKafkaClient(opts), opts, m.headers, onRequest);
      return;
    }
    case 'connect':
      return run(m.id, (p) => p.connect());
    case 'send':
      return run(m.id, (p) =>
        p.send((typeof m.records === 'string' ? unpackRecords(m.records) : m.records).map(toRecord)),
      );
    case 'disconnect':
      return run(m.id, (p) => p.disconnect());
  }
});
