/**
 * A kafkajs consumer connected and subscribed, as both readers of topics use it (the compacted
 * topic follower and the group consumer): crashes logged, restarts only while not stopped, a
 * failure to subscribe reported as BusUnavailableError, and one stop() that also ends a start
 * still under way. Also the conversion of a kafkajs message into the bus's ConsumedRecord.
 */
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { BusLog } from './kafka-config';
import { describeKafkaError } from './kafka-errors';
import { BusUnavailableError, type ConsumedRecord } from './types';

export interface ConsumerStart {
  readonly topic: string;
  readonly groupId: string;
  /** Longest wait of one fetch; also bounds how long stop() waits for it. */
  readonly maxWaitTimeInMs: number;
  readonly allowAutoTopicCreation?: boolean;
  /** Group session timeout; heartbeats go at a third of it. Default kafkajs's (30 s). */
  readonly sessionTimeoutMs?: number;
  readonly label: string;
  readonly log?: BusLog;
}

/** The consumer of one topic reader, started once and stopped for good. */
export class ReaderConsumer {
  // Kept after stop(): a stop() racing with start() disconnects again once start() is done.
  private consumer: Consumer | undefined;
  private stopped = false;

  async start(kafka: Kafka, o: ConsumerStart): Promise<Consumer> {
    const consumer = kafka.consumer({
      groupId: o.groupId,
      ...(o.allowAutoTopicCreation !== undefined ? { allowAutoTopicCreation: o.allowAutoTopicCreation } : {}),
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      ...(o.sessionTimeoutMs !== undefined
        ? { sessionTimeout: o.sessionTimeoutMs, heartbeatInterval: Math.max(100, Math.floor(o.sessionTimeoutMs / 3)) }
        : {}),
      // kafkajs restarts a crashed consumer on a timer; once stopped it must not come back.
      retry: { restartOnFailure: async () => !this.stopped },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) =>
      o.log?.warn(
        { topic: o.topic, err: describeKafkaError(e.payload.error), restart: e.payload.restart },
        `${o.label} crashed`,
      ),
    );
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    } catch (err) {
      throw new BusUnavailableError(`cannot subscribe to ${o.topic}: ${describeKafkaError(err).message}`);
    }
    return consumer;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [k, v] of Object.entries(headers)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

export function toConsumed(topic: string, m: KafkaMessage): ConsumedRecord {
  return {
    topic,
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value,
    headers: headersToStrings(m.headers),
    offset: m.offset,
    timestamp: Number(m.timestamp),
  };
}
