/**
 * The bus: Kafka when KAFKA_BROKERS is set, else the in-process bus that logs the records it takes (rate-limited).
 */
import { createBus, type CreatedBus } from '../bus/create-bus';
import type { KafkaBusOptions } from '../bus/kafka-config';
import { resolveTopics, type Topics } from '../bus/topics';
import type { Config } from '../config/env';
import type { Logger } from '../observability/logger';
import { kafkaTls } from './kafka-tls';

export interface BridgeBus {
  readonly created: CreatedBus;
  readonly topics: Topics;
}

export function createBridgeBus(config: Config, log: Logger, onProduceLatency?: (ms: number) => void): BridgeBus {
  const brokers = config.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  const sasl: Pick<KafkaBusOptions, 'sasl'> =
    config.KAFKA_SASL_MECHANISM === ''
      ? {}
      : {
          sasl: {
            mechanism: config.KAFKA_SASL_MECHANISM,
            username: config.KAFKA_SASL_USERNAME,
            password: config.KAFKA_SASL_PASSWORD,
          },
        };
  const ssl = kafkaTls(config);
  const topics = resolveTopics(config.KAFKA_TOPIC_PREFIX, {
    telemetry: config.KAFKA_TOPIC_TELEMETRY,
    attributes: config.KAFKA_TOPIC_ATTRIBUTES,
    events: config.KAFKA_TOPIC_EVENTS,
    rpcRequests: config.KAFKA_TOPIC_RPC_REQUESTS,
    rpcResponses: config.KAFKA_TOPIC_RPC_RESPONSES,
    devices: config.KAFKA_TOPIC_DEVICES,
    profiles: config.KAFKA_TOPIC_PROFILES,
  });
  const created = createBus(
    {
      brokers,
      instanceId: config.INSTANCE_ID,
      clientId: config.KAFKA_CLIENT_ID,
      ...(ssl !== undefined ? { ssl } : {}),
      ...sasl,
      lingerMs: config.KAFKA_LINGER_MS,
      maxBatchRecords: config.KAFKA_MAX_BATCH_RECORDS,
      maxBatchBytes: config.KAFKA_MAX_BATCH_BYTES,
      maxBufferedRecords: config.KAFKA_MAX_BUFFERED_RECORDS,
      maxBufferedBytes: config.KAFKA_MAX_BUFFERED_BYTES,
      unavailableAfterMs: config.KAFKA_UNAVAILABLE_AFTER_MS,
      compression: config.KAFKA_COMPRESSION,
      producerThread: config.KAFKA_PRODUCER_THREAD,
      groupSessionTimeoutMs: config.KAFKA_RPC_SESSION_TIMEOUT_MS,
      log,
      ...(onProduceLatency ? { onProduceLatency } : {}),
    },
    [topics.devices, topics.profiles],
  );
  return { created, topics };
}
