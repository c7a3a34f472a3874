/**
 * KafkaBus through a broker outage, on a broker of its own (test/support/kafka-broker.ts):
 * records buffer, then publish fails fast (buffer full, then unavailability threshold), the state
 * shows in stats(), and once the broker is back the bus recovers by itself and delivers every
 * buffered record: none whose publish was accepted is lost.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { KafkaBus } from '../../src/bus/kafka-bus';
import type { KafkaBusOptions } from '../../src/bus/kafka-config';
import { BusUnavailableError, type BusRecord } from '../../src/bus/types';
import { startKafkaBroker, type KafkaBrokerHandle } from '../support/kafka-broker';
import { errorMessage } from '../../src/common/error-message';

const WAIT_MS = 30_000;

let broker: KafkaBrokerHandle;
const buses: KafkaBus[] = [];

beforeAll(async () => {
  broker = await startKafkaBroker();
}, 120_000);
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close(2_000)));
  await broker?.stop();
});

function newBus(over: Partial<KafkaBusOptions> = {}): KafkaBus {
  const b = new KafkaBus({
    brokers: broker.brokers,
    instanceId: 'outage',
    kafkaLogLevel: 'nothing',
    retryInitialMs: 50,
    retryMaxMs: 500,
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 5_000,
    ...over,
  });
  buses.push(b);
  return b;
}

async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` every 50 ms until it holds, at most `WAIT_MS`. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function consumeAll(kafka: Kafka, topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `outage-test-${randomUUID()}`, maxWaitTimeInMs: 500 });
  const got: KafkaMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    await until(`consume ${count} records of ${topic} (have ${got.length})`, () => got.length >= count);
    return got;
  } finally {
    await consumer.disconnect();
  }
}

/** Publishes and remembers how it ended. */
function tracked(b: KafkaBus, records: BusRecord[]): { settled: () => string; done: Promise<void> } {
  let state = 'pending';
  const done = b.publish(records).then(
    () => void (state = 'resolved'),
    (e: unknown) => void (state = `rejected: ${errorMessage(e)}`),
  );
  return { settled: () => state, done };
}

it('buffers through an outage, fails fast when full or unavailable too long, then recovers and delivers everything', async () => {
  const kafka = new Kafka({ clientId: 'outage-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const topic = `bus-outage-${randomUUID()}`;
  await createTopic(kafka, topic);
  const b = newBus({ maxBufferedRecords: 300, unavailableAfterMs: 2_000 });
  await b.start();
  let seq = 0;
  const batch = (n: number): BusRecord[] =>
    Array.from({ length: n }, () => ({ topic, key: `dev-${seq % 5}`, value: { seq: seq++ } }));
  await b.publish(batch(50));
  expect(b.stats()).toMatchObject({ available: true, published: 50 });

  await broker.down();
  // Accepted while the buffer has room; not resolved, since the broker acknowledges nothing.
  const during = [tracked(b, batch(100)), tracked(b, batch(100)), tracked(b, batch(100))];
  const accepted = seq;
  await expect(b.publish(batch(1))).rejects.toThrow(/buffer full/);
  expect(b.stats()).toMatchObject({ available: false, bufferedRecords: 300, failed: 1 });

  // Past the unavailability threshold, the refusal says why; the records still wait.
  await until('a failed send, retried in the background', () => b.stats().sendErrors > 0);
  let refusal: unknown;
  await until('the unavailability threshold', () => {
    b.publish(batch(1)).catch((e: unknown) => void (refusal = e));
    return refusal instanceof BusUnavailableError && /acknowledged nothing/.test(refusal.message);
  });
  expect(refusal).toMatchObject({ code: 'BUS_UNAVAILABLE', retriable: true });
  expect(during.map((d) => d.settled())).toEqual(['pending', 'pending', 'pending']);
  expect(b.stats()).toMatchObject({ available: false, bufferedRecords: 300 });

  await broker.up();
  await Promise.all(during.map((d) => d.done));
  expect(during.map((d) => d.settled())).toEqual(['resolved', 'resolved', 'resolved']);
  await until('available again', () => b.stats().available);
  await b.publish(batch(10)); // and new records go through
  const published = accepted + 10;
  expect(b.stats()).toMatchObject({ bufferedRecords: 0, published });

  const got = await consumeAll(kafka, topic, published);
  const seqs = new Set(got.map((m) => (JSON.parse(m.value?.toString() ?? '{}') as { seq: number }).seq));
  for (let s = 0; s < accepted; s++) expect(seqs.has(s)).toBe(true);
  for (let s = seq - 10; s < seq; s++) expect(seqs.has(s)).toBe(true);
}, 90_000);

it('starts while Kafka is down and connects by itself; close() during an outage is bounded and rejects what it holds', async () => {
  const kafka = new Kafka({ clientId: 'outage-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const topic = `bus-late-${randomUUID()}`;
  await createTopic(kafka, topic);
  await broker.down();

  const late = newBus();
  const started = late.start();
  expect(late.stats().available).toBe(false);
  const waiting = tracked(late, [{ topic, key: 'dev', value: { n: 1 } }]);

  const closing = newBus();
  const lost = closing.publish([
    { topic, key: 'dev', value: { n: 2 } },
    { topic, key: 'dev', value: { n: 3 } },
  ]);
  const lostRejected = expect(lost).rejects.toThrow(/closed before 2 records were accepted/); // close() rejects it while it ends the producer thread
  const t0 = Date.now();
  await closing.close(300);
  expect(Date.now() - t0).toBeLessThan(10_000);
  await lostRejected;
  expect(closing.stats()).toMatchObject({ failed: 2, bufferedRecords: 0, available: false });

  await broker.up();
  await started;
  await waiting.done;
  expect(waiting.settled()).toBe('resolved');
  expect(late.stats()).toMatchObject({ available: true, published: 1 });
  const got = await consumeAll(kafka, topic, 1);
  expect(got.map((m) => m.value?.toString())).toEqual(['{"n":1}']);
}, 90_000);
