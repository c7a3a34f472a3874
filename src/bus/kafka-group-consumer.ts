/**
 * Consumes a topic as a member of a consumer group shared by every bridge instance (the RPC
 * requests): each record reaches one instance. At least once: a record's offset is committed only
 * after its handler resolved, so a crash or rebalance in between hands it to another member again
 * (the handler's request-id check keeps it from running twice). A handler that throws is logged
 * and the record committed: one bad record never stops the consumer. Except RecordNotTakenError:
 * the record stays uncommitted (kafkajs fetches it again, and after a rebalance another member does).
 *
 * Order: records with the same key (the endpoint) are handled one at a time, in offset order;
 * records with different keys in a fetched batch are handled concurrently, so one batch costs
 * about one handler's latency rather than the sum of them. Records without a key share one line.
 * The committed offset only ever covers a prefix of the batch in which every record was handled.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
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
      // Only the handled prefix of a batch is resolved (below), never the whole batch by default.
      eachBatchAutoResolve: false,
      // Partitions in parallel, each in key order: a device's requests share a partition (key = endpoint).
      partitionsConsumedConcurrently: 8,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        const messages = batch.messages;
        const handled = await this.handleBatch(batch.partition, messages, () => isRunning() && !isStale());
        let prefix = 0;
        while (prefix < messages.length && handled.done[prefix] === true) prefix++;
        if (prefix > 0) resolveOffset((messages[prefix - 1] as KafkaMessage).offset);
        if (handled.notTaken !== undefined) throw handled.notTaken;
      },
    });
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  /** Handles a batch, one line of records per key; stops a line at the first record not taken. */
  private async handleBatch(
    partition: number,
    messages: readonly KafkaMessage[],
    running: () => boolean,
  ): Promise<{ done: boolean[]; notTaken?: RecordNotTakenError }> {
    const done = new Array<boolean>(messages.length).fill(false);
    const lines = new Map<string, number[]>();
    messages.forEach((m, i) => {
      const key = m.key === null ? '' : m.key.toString('latin1');
      const line = lines.get(key);
      if (line === undefined) lines.set(key, [i]);
      else line.push(i);
    });
    let notTaken: RecordNotTakenError | undefined;
    await Promise.all(
      [...lines.values()].map(async (line) => {
        for (const i of line) {
          if (notTaken !== undefined || !running()) return;
          const message = messages[i] as KafkaMessage;
          try {
            await this.opts.handler(toConsumed(this.opts.topic, message));
          } catch (err) {
            if (err instanceof RecordNotTakenError) {
              notTaken = err;
              return;
            }
            this.opts.log?.warn(
              { topic: this.opts.topic, partition, offset: message.offset, err: describeKafkaError(err) },
              'consumer handler failed; record skipped',
            );
          }
          done[i] = true;
        }
      }),
    );
    return notTaken !== undefined ? { done, notTaken } : { done };
  }
}
