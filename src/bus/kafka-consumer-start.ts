/**
 * A kafkajs consumer connected and subscribed, as both readers of topics use it (the compacted
 * topic follower and the group consumer): crashes logged, restarts only while not stopped, and a
 * failure to subscribe reported as BusUnavailableError.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { BusLog } from './kafka-config';
import { describeKafkaError } from './kafka-errors';
import { BusUnavailableError } from './types';

export interface ConsumerStart {
  readonly topic: string;
  readonly groupId: string;
  /** Longest wait of one fetch; also bounds how long stop() waits for it. */
  readonly maxWaitTimeInMs: number;
  readonly allowAutoTopicCreation?: boolean;
  /** Group session timeout; heartbeats go at a third of it. Default kafkajs's (30 s). */
  readonly sessionTimeoutMs?: number;
  /** kafkajs restarts a crashed consumer on a timer; once stopped it must not come back. */
  readonly stopped: () => boolean;
  readonly label: string;
  readonly log?: BusLog;
}

export async function startConsumer(kafka: Kafka, o: ConsumerStart, adopt: (c: Consumer) => void): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId: o.groupId,
    ...(o.allowAutoTopicCreation !== undefined ? { allowAutoTopicCreation: o.allowAutoTopicCreation } : {}),
    maxWaitTimeInMs: o.maxWaitTimeInMs,
    ...(o.sessionTimeoutMs !== undefined ? { sessionTimeout: o.sessionTimeoutMs, heartbeatInterval: Math.max(100, Math.floor(o.sessionTimeoutMs / 3)) } : {}),
    retry: { restartOnFailure: async () => !o.stopped() },
  });
  adopt(consumer);
  consumer.on(consumer.events.CRASH, (e) => o.log?.warn({ topic: o.topic, err: describeKafkaError(e.payload.error), restart: e.payload.restart }, `${o.label} crashed`));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
  } catch (err) {
    throw new BusUnavailableError(`cannot subscribe to ${o.topic}: ${describeKafkaError(err).message}`);
  }
  return consumer;
}
