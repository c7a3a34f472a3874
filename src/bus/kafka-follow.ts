/**
 * Follows a (compacted) topic from its beginning: the provisioning topics (devices, profiles).
 *
 * Every process reads the whole topic, so each follower has a consumer group of its own
 * (a fresh id per process: nothing is committed, nothing is shared) and starts from the earliest
 * offset. `caughtUp` resolves once every partition was read up to its high watermark as observed
 * at subscription, so start-up can wait for the provisioning state present at that moment.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { BusUnavailableError, type ConsumedRecord } from './types';
import type { BusLog } from './kafka-config';
import { ReaderConsumer, toConsumed } from './kafka-consumer-start';
import { describeKafkaError, isRetriable } from './kafka-errors';

export interface FollowOptions {
  readonly topic: string;
  readonly clientId: string;
  readonly instanceId: string;
  readonly catchUpTimeoutMs: number;
  readonly handler: (record: ConsumedRecord) => Promise<void> | void;
  readonly log?: BusLog;
}

/** High watermark by partition, for partitions that hold records now. */
async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Asked this way the broker never auto-creates the topic (it would not be compacted).
    if (!(await admin.listTopics()).includes(topic)) {
      throw new BusUnavailableError(`topic ${topic} does not exist: create it with cleanup.policy=compact`);
    }
    const offsets = await admin.fetchTopicOffsets(topic);
    const ends = new Map<number, bigint>();
    for (const p of offsets) if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
    return ends;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * endOffsets, again while the broker answers with a retriable error (a topic created a moment
 * ago has no partition leader yet: "This server does not host this topic-partition"), until the
 * deadline.
 */
async function endOffsetsRetrying(
  kafka: Kafka,
  topic: string,
  deadline: number,
  log: BusLog | undefined,
): Promise<Map<number, bigint>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await endOffsets(kafka, topic);
    } catch (err) {
      const delay = Math.min(1_000, 100 * 2 ** attempt);
      if (err instanceof BusUnavailableError || !isRetriable(err) || Date.now() + delay > deadline) throw err;
      if (attempt === 0) log?.info({ topic, err: describeKafkaError(err) }, 'offsets not available yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export class TopicFollower {
  private readonly reader = new ReaderConsumer();

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: FollowOptions,
  ) {}

  /** Subscribes and resolves once caught up; rejects with BusUnavailableError if that takes too long. */
  async start(): Promise<void> {
    const { topic, log } = this.opts;
    let pending: Map<number, bigint>;
    try {
      pending = await endOffsetsRetrying(this.kafka, topic, Date.now() + this.opts.catchUpTimeoutMs, log);
    } catch (err) {
      if (err instanceof BusUnavailableError) throw err;
      throw new BusUnavailableError(`cannot read the offsets of ${topic}: ${describeKafkaError(err).message}`);
    }
    let caughtUp!: () => void;
    const done = new Promise<void>((resolve) => (caughtUp = resolve));
    if (pending.size === 0) caughtUp();
    const consumer = await this.reader.start(this.kafka, {
      topic,
      groupId: `${this.opts.clientId}.follow.${this.opts.instanceId}.${randomUUID()}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
      label: 'follow consumer',
      ...(log !== undefined ? { log } : {}),
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        try {
          await this.opts.handler(toConsumed(topic, message));
        } catch (err) {
          // One bad record must not stop provisioning: say so and go on.
          log?.warn(
            { topic, partition, offset: message.offset, err: describeKafkaError(err) },
            'follow handler failed; record skipped',
          );
        }
        const end = pending.get(partition);
        if (end !== undefined && BigInt(message.offset) + 1n >= end) {
          pending.delete(partition);
          if (pending.size === 0) caughtUp();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BusUnavailableError(`${topic} not read to its end within ${this.opts.catchUpTimeoutMs} ms`)),
        this.opts.catchUpTimeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }
}
