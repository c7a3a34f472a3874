import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRecordRefusal, needsNewProducer } from './kafka-errors';
import { ProducerThread } from './producer-thread';
import { BusUnavailableError } from './types';

/** A stand-in producer thread speaking the protocol of producer-protocol.ts: it dies, refuses or accepts by key. */
const SCRIPT = `
const { parentPort } = require('node:worker_threads');
let headers;
parentPort.on('message', (m) => {
  if (m.type === 'init') { headers = m.headers; parentPort.postMessage({ type: 'log', level: 'info', obj: { headers }, msg: 'init' }); return; }
  if (m.type !== 'send') { parentPort.postMessage({ type: 'done', id: m.id, connected: true }); return; }
  const fields = typeof m.records === 'string' ? m.records.split('\\u0000') : m.records.flat();
  const key = fields[1];
  const count = Math.floor(fields.length / 4);
  if (key === 'die') process.exit(3);
  if (key === 'refuse') { parentPort.postMessage({ type: 'done', id: m.id, connected: true, error: { message: 'too large', types: ['KafkaJSNonRetriableError', 'MESSAGE_TOO_LARGE'] } }); return; }
  parentPort.postMessage({ type: 'request', apiName: 'Produce', size: count, durationMs: 1 });
  parentPort.postMessage({ type: 'done', id: m.id, connected: true });
});
`;

describe('ProducerThread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'producer-thread-'));
  const script = join(dir, 'worker.js');
  writeFileSync(script, SCRIPT);
  const threads: ProducerThread[] = [];
  afterAll(() => Promise.all(threads.map((t) => t.disconnect())));

  it('sends through the thread, carries broker error types back, and replaces a thread that died', async () => {
    const logged: string[] = [];
    const requests: number[] = [];
    const log = { info: (_o: object, msg: string) => logged.push(msg), warn: () => undefined, error: () => undefined };
    const p = new ProducerThread({
      options: { brokers: ['127.0.0.1:1'], instanceId: 'i' },
      headers: { 'schema-version': '1' },
      log,
      onRequest: (r) => requests.push(r.size),
      script,
    });
    threads.push(p);
    expect(p.connected()).toBe(false);
    await p.connect();
    expect(p.connected()).toBe(true);
    await p.send([
      { topic: 't', key: 'ok', value: '{}' },
      { topic: 't', key: 'ok2', value: null },
    ]);
    expect(requests).toEqual([2]);

    const refused = await p.send([{ topic: 't', key: 'refuse', value: '{}' }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe('too large');
    expect(isRecordRefusal(refused)).toBe(true);
    expect(needsNewProducer(refused)).toBe(false);

    await expect(p.send([{ topic: 't', key: 'die', value: '{}' }])).rejects.toThrow(BusUnavailableError);
    expect(p.connected()).toBe(false);
    await p.send([{ topic: 't', key: 'ok', value: '{}' }]); // a new thread
    expect(logged).toEqual(['init', 'init']);
    await p.disconnect();
    expect(p.connected()).toBe(false);
  });
});
