/**
 * KafkaBus against the real broker of globalSetup: batching, per-key order, headers, compression,
 * acknowledgement before resolution, follow() of compacted topics, consume() as a group member
 * (order per key, concurrency across keys, records not taken left uncommitted), flush on close.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { KafkaBus } from '../../src/bus/kafka-bus';
import type { KafkaBusOptions } from '../../src/bus/kafka-config';
import { RecordNotTakenError, type ConsumedRecord } from '../../src/bus/types';
import { testKafkaBrokers } from '../support/infra';

const CONSUME_TIMEOUT_MS = 30_000;

let brokers: string[];
let kafka: Kafka;
const buses: KafkaBus[] = [];

beforeAll(() => {
  brokers = testKafkaBrokers();
  kafka = new Kafka({ clientId: `kafka-bus-test-${randomUUID()}`, brokers, logLevel: logLevel.NOTHING });
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close(5_000)));
});

function bus(over: Partial<KafkaBusOptions> = {}): KafkaBus {
  const b = new KafkaBus({ brokers, instanceId: 'test-instance', kafkaLogLevel: 'nothing', ...over });
  buses.push(b);
  return b;
}

async function createTopic(
  topic: string,
  numPartitions: number,
  configEntries: Array<{ name: string; value: string }> = [],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions, configEntries }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function endOffset(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads `topic` from the beginning until `count` records arrived (bounded). */
async function consume(topic: string, count: number): Promise<Array<{ partition: number; message: KafkaMessage }>> {
  const consumer = kafka.consumer({ groupId: `kafka-bus-test-${randomUUID()}`, maxWaitTimeInMs: 500 });
  const got: Array<{ partition: number; message: KafkaMessage }> = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`consumed ${got.length} of ${count} records of ${topic}`)),
        CONSUME_TIMEOUT_MS,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            got.push({ partition, message });
            if (got.length >= count) resolve();
          },
        })
        .catch(reject);
    });
    return got;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

describe('KafkaBus', () => {
  it.each([
    ['on its own thread', true],
    ['in the main thread', false],
  ])(
    'publishes 10k records from many publish() calls in few compressed batches, once each, in order per key, with headers (producer %s)',
    async (_where, producerThread) => {
      const topic = `bus-bulk-${randomUUID()}`;
      await createTopic(topic, 3);
      const requests: Array<{ apiName: string; size: number }> = [];
      const b = bus({ producerThread, onProducerRequest: (r) => requests.push(r) });
      const keys = 40;
      const total = 10_000;
      const publishes: Promise<void>[] = [];
      let valueBytes = 0;
      for (let seq = 0; seq < total;) {
        const n = 1 + (seq % 7); // calls of 1 to 7 records, keys interleaved
        const records = [];
        for (let i = 0; i < n && seq < total; i++, seq++) {
          const value = {
            endpoint: `dev-${seq % keys}`,
            seq,
            ts: 1_714_564_800_000 + seq,
            values: { temperature: 20 + (seq % 10) / 10, unit: 'Cel' },
          };
          valueBytes += JSON.stringify(value).length;
          records.push({ topic, key: value.endpoint, value });
        }
        publishes.push(b.publish(records));
      }
      expect(publishes.length).toBeGreaterThan(2_000);
      await Promise.all(publishes);
      expect(b.stats()).toMatchObject({ published: total, failed: 0, bufferedRecords: 0, available: true });

      const produce = requests.filter((r) => r.apiName === 'Produce');
      expect(produce.length).toBeLessThan(publishes.length / 10); // batched: never one send per publish
      const producedBytes = produce.reduce((s, r) => s + r.size, 0);
      expect(producedBytes).toBeLessThan(valueBytes / 3); // gzip on the wire

      expect(await endOffset(topic)).toBe(total); // nothing twice
      const consumed = await consume(topic, total);
      const lastSeq = new Map<string, number>();
      const partitionOfKey = new Map<string, number>();
      for (const { partition, message } of consumed) {
        const key = message.key?.toString() ?? '';
        const value = JSON.parse(message.value?.toString() ?? 'null') as { endpoint: string; seq: number };
        expect(value.endpoint).toBe(key);
        expect(value.seq).toBeGreaterThan(lastSeq.get(key) ?? -1); // in order per key
        lastSeq.set(key, value.seq);
        expect(partitionOfKey.get(key) ?? partition).toBe(partition);
        partitionOfKey.set(key, partition);
        expect(message.headers?.['schema-version']?.toString()).toBe('1');
        expect(message.headers?.['instance-id']?.toString()).toBe('test-instance');
        expect(message.headers?.['content-type']?.toString()).toBe('application/json');
      }
      expect(new Set(consumed.map((c) => JSON.parse(c.message.value?.toString() ?? '{}').seq)).size).toBe(total);
      expect(new Set(partitionOfKey.values()).size).toBeGreaterThan(1);
    },
  );

  it('resolves publish() only once the broker acknowledged the records', async () => {
    const topic = `bus-ack-${randomUUID()}`;
    await createTopic(topic, 1);
    let producedResponses = 0;
    const b = bus({ lingerMs: 0, onProducerRequest: (r) => void (r.apiName === 'Produce' && producedResponses++) });
    for (let i = 1; i <= 5; i++) {
      await b.publish([{ topic, key: 'dev', value: { i } }]);
      // The Produce response arrived before publish() resolved, and the record is committed (acks = all).
      expect(producedResponses).toBe(i);
      expect(await endOffset(topic)).toBe(i);
    }
  });

  it('follows a compacted topic from its beginning, resolving once caught up, then live', async () => {
    const topic = `bus-follow-${randomUUID()}`;
    await createTopic(topic, 2, [{ name: 'cleanup.policy', value: 'compact' }]);
    const b = bus();
    await b.publish([
      { topic, key: 'a', value: { v: 1 } },
      { topic, key: 'b', value: { v: 1 } },
      { topic, key: 'a', value: { v: 2 } },
      { topic, key: 'b', value: null },
    ]);
    const seen: ConsumedRecord[] = [];
    await b.follow(topic, async (r) => {
      await Promise.resolve();
      seen.push(r);
    });
    const text = (r: ConsumedRecord): string => `${r.key}=${r.value === null ? 'tombstone' : r.value.toString()}`;
    // Caught up: all four (compaction has not run yet), in order per key.
    expect(seen.filter((r) => r.key === 'a').map(text)).toEqual(['a={"v":1}', 'a={"v":2}']);
    expect(seen.filter((r) => r.key === 'b').map(text)).toEqual(['b={"v":1}', 'b=tombstone']);
    expect(seen[0]?.headers['instance-id']).toBe('test-instance');

    await b.publish([{ topic, key: 'c', value: { v: 1 } }]);
    const deadline = Date.now() + CONSUME_TIMEOUT_MS;
    while (!seen.some((r) => r.key === 'c') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen.map(text)).toContain('c={"v":1}');
  });

  it('consumes as a group: records of one key one at a time in order, different keys concurrently', async () => {
    const topic = `bus-consume-${randomUUID()}`;
    await createTopic(topic, 1);
    const b = bus();
    const keys = ['a', 'b', 'c', 'd'];
    const records = Array.from({ length: 40 }, (_, i) => ({
      topic,
      key: keys[i % keys.length] as string,
      value: { seq: i },
    }));
    await b.publish(records);
    const order = new Map<string, number[]>();
    const running = new Set<string>();
    let overlapSameKey = 0;
    let mostAtOnce = 0;
    await b.consume(topic, `bus-consume-${randomUUID()}`, async (r) => {
      const key = r.key ?? '';
      if (running.has(key)) overlapSameKey++;
      running.add(key);
      mostAtOnce = Math.max(mostAtOnce, running.size);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const seq = (JSON.parse(r.value?.toString() ?? '{}') as { seq: number }).seq;
      order.set(key, [...(order.get(key) ?? []), seq]);
      running.delete(key);
    });
    const deadline = Date.now() + CONSUME_TIMEOUT_MS;
    const count = (): number => [...order.values()].reduce((n, l) => n + l.length, 0);
    while (count() < records.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const [k, key] of keys.entries())
      expect(order.get(key)).toEqual(Array.from({ length: 10 }, (_, i) => i * keys.length + k));
    expect(overlapSameKey).toBe(0);
    // All four were in one fetched batch at least once: their handlers overlapped.
    expect(mostAtOnce).toBeGreaterThan(1);
  });

  it('consumes as a group: a record not taken (RecordNotTakenError) stays uncommitted for the next member, the handled prefix does not', async () => {
    const topic = `bus-consume-nt-${randomUUID()}`;
    const group = `bus-consume-nt-${randomUUID()}`;
    await createTopic(topic, 1);
    const first = bus();
    await first.publish(Array.from({ length: 8 }, (_, i) => ({ topic, key: `k${i % 2}`, value: { seq: i } })));
    const seq = (r: ConsumedRecord): number => (JSON.parse(r.value?.toString() ?? '{}') as { seq: number }).seq;
    const handledByFirst = new Set<number>();
    let refusals = 0;
    await first.consume(topic, group, (r) => {
      if (seq(r) === 5) {
        refusals++;
        throw new RecordNotTakenError('the store is away and this member is stopping');
      }
      handledByFirst.add(seq(r));
    });
    const deadline = Date.now() + CONSUME_TIMEOUT_MS;
    while ((refusals === 0 || ![0, 1, 2, 3, 4].every((s) => handledByFirst.has(s))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(refusals).toBeGreaterThan(0);
    await first.close(5_000);

    const second = bus();
    const handledBySecond: number[] = [];
    await second.consume(topic, group, (r) => void handledBySecond.push(seq(r)));
    while (!handledBySecond.includes(7) && Date.now() < deadline + CONSUME_TIMEOUT_MS)
      await new Promise((r) => setTimeout(r, 20));
    expect(handledBySecond).toContain(5);
    expect(handledBySecond.filter((s) => s < 5)).toEqual([]);
  });

  it('follows an empty topic: resolves at once', async () => {
    const topic = `bus-follow-empty-${randomUUID()}`;
    await createTopic(topic, 1, [{ name: 'cleanup.policy', value: 'compact' }]);
    await expect(bus().follow(topic, () => undefined)).resolves.toBeUndefined();
  });

  it('refuses to follow a topic that does not exist, without creating it', async () => {
    const topic = `bus-follow-missing-${randomUUID()}`;
    await expect(bus().follow(topic, () => undefined)).rejects.toThrow(`topic ${topic} does not exist`);
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it('flushes on close(): records still lingering are sent and their publishes resolve', async () => {
    const topic = `bus-close-${randomUUID()}`;
    await createTopic(topic, 1);
    const b = new KafkaBus({ brokers, instanceId: 'closing', kafkaLogLevel: 'nothing', lingerMs: 60_000 });
    await b.start();
    const pending = b.publish([
      { topic, key: 'k', value: 1 },
      { topic, key: 'k', value: 2 },
    ]);
    await b.close(10_000);
    await expect(pending).resolves.toBeUndefined();
    expect(await endOffset(topic)).toBe(2);
    await expect(b.publish([{ topic, key: 'k', value: 3 }])).rejects.toThrow(/closed/);
  });
});
