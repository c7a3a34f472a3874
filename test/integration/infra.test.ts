/**
 * Smoke test of the test infrastructure: the Redis and Kafka that globalSetup provides answer,
 * and a broker of our own survives restart() with its data (what outage tests rely on).
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Kafka, logLevel, Partitioners, type Consumer, type KafkaMessage } from 'kafkajs';
import { testKafkaBrokers, testRedisUrl } from '../support/infra';
import { startKafkaBroker, type KafkaBrokerHandle } from '../support/kafka-broker';
import { startRedisServer, type RedisHandle } from '../support/redis-server';

const MESSAGE_TIMEOUT_MS = 20_000;

function kafkaClient(brokers: string[]): Kafka {
  return new Kafka({ clientId: `infra-test-${randomUUID()}`, brokers, logLevel: logLevel.NOTHING });
}

/** Consumes `topic` from the beginning until `count` messages arrived (bounded), then disconnects. */
async function consume(kafka: Kafka, topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer: Consumer = kafka.consumer({ groupId: `infra-test-${randomUUID()}` });
  const messages: KafkaMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`received ${messages.length} of ${count} message(s) on ${topic} in ${MESSAGE_TIMEOUT_MS} ms`),
          ),
        MESSAGE_TIMEOUT_MS,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            messages.push(message);
            if (messages.length >= count) resolve();
          },
        })
        .catch(reject);
    });
    return messages;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

async function produce(kafka: Kafka, topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'k', value })) });
  } finally {
    await producer.disconnect();
  }
}

async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

describe('test infrastructure provided by globalSetup', () => {
  it('Redis answers PING', async () => {
    const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      await expect(redis.ping()).resolves.toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('Kafka creates a topic, takes a message and delivers it', async () => {
    const kafka = kafkaClient(testKafkaBrokers());
    const topic = `infra-smoke-${randomUUID()}`;
    await createTopic(kafka, topic);
    await produce(kafka, topic, ['hello']);
    const [message] = await consume(kafka, topic, 1);
    expect(message?.value?.toString()).toBe('hello');
  });
});

describe('startRedisServer', () => {
  let redis: RedisHandle | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it('restarts on the same port', async () => {
    redis = await startRedisServer();
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // the connection drops during the restart
    try {
      await client.connect();
      await client.set('k', 'v');
      const url = redis.url;
      await redis.restart();
      expect(redis.url).toBe(url);
      expect(redis.isRunning()).toBe(true);
      // ioredis reconnects by itself; no persistence, so the server restarted empty.
      await expect(client.get('k')).resolves.toBeNull();
    } finally {
      client.disconnect();
    }
  });
});

describe('startKafkaBroker', () => {
  let broker: KafkaBrokerHandle | undefined;
  afterAll(async () => {
    await broker?.stop();
  });

  it('keeps its ports and data across restart()', async () => {
    broker = await startKafkaBroker();
    const brokers = [...broker.brokers];
    const kafka = kafkaClient(brokers);
    const topic = `infra-restart-${randomUUID()}`;
    await createTopic(kafka, topic);
    await produce(kafka, topic, ['before']);

    await broker.restart(); // down() then up()
    expect(broker.isRunning()).toBe(true);
    expect(broker.brokers).toEqual(brokers);

    await produce(kafka, topic, ['after']);
    const messages = await consume(kafka, topic, 2);
    expect(messages.map((m) => m.value?.toString())).toEqual(['before', 'after']);
    expect(broker.logs()).toContain('Kafka Server started');
  }, 90_000);
});
