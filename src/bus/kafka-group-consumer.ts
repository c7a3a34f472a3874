/**
 * Consumes a topic as a member of a consumer group shared by every bridge instance (the RPC
 * requests): each record reaches one instance. At least once: a record's offset is committed only
 * after its handler resolved, so a crash or rebalance in between hands it to another member again
 * (the handler's request-id check keeps it from running twice). A handler that throws is logged
 * and the record committed: one bad record never stops the consumer. Except RecordNotTakenError:
 * the record stays uncommitted (kafkajs retries it, and after a rebalance another member does).
 */
import type { Kafka } from 'kafkajs';
import type { BusLog } from './kafka-config';
import { describeKafkaError } from './kafka-errors';
import { ReaderConsumer, toConsumed } from './kafka-consumer-start';
import { RecordNotTakenError, type ConsumedRecord } from './types';

export interface GroupConsumerOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs?: number;
  readonly handler: (record: ConsumedRecord) => Promise<void> | void;
  readonly log?: BusLog;
}

export class GroupConsumer {
  private readonly reader = new ReaderConsumer();

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: GroupConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const { topic, log } = this.opts;
    // A new group starts at the beginning: requests sent before the first bridge started are
    // answered (stale ones TIMEOUT, their deadline counts from the record's timestamp).
    const consumer = await this.reader.start(this.kafka, {
      topic,
      groupId: this.opts.groupId,
      maxWaitTimeInMs: 500,
      label: 'group consumer',
      ...(this.opts.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: this.opts.sessionTimeoutMs } : {}),
      ...(log !== undefined ? { log } : {}),
    });
    await consumer.run({
      autoCommit: true,
      // Partitions in parallel, each in order: a device's requests share a partition (key = endpoint).
      partitionsConsumedConcurrently: 8,
      eachMessage: async ({ partition, message }) => {
        try {
          await this.opts.handler(toConsumed(topic, message));
        } catch (err) {
          if (err instanceof RecordNotTakenError) throw err;
          log?.warn({ topic, partition, offset: message.offset, err: describeKafkaError(err) }, 'consumer handler failed; record skipped');
        }
      },
    });
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }
}
