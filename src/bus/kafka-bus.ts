/**
 * The Bus on Apache Kafka (kafkajs), as docs/kafka/README.md describes it:
 *
 * - one idempotent producer (acks = all, one request in flight per broker, gzip), fed by a
 *   Batcher: records are grouped into one `sendBatch` per linger interval or full batch; the
 *   producer runs on a thread of its own (producer-thread.ts) unless `producerThread: false`;
 * - publish() resolves once the broker acknowledged every record of the call;
 * - bounded buffer and fail-fast BusUnavailableError when it is full or the broker has
 *   acknowledged nothing for `unavailableAfterMs`; retries go on in the background and the bus
 *   recovers by itself;
 * - follow() reads provisioning topics from their beginning (./kafka-follow.ts);
 * - consume() reads a topic as one member of a group (./kafka-group-consumer.ts): RPC requests;
 * - close() flushes within a bound, then disconnects.
 */
import type { Kafka } from 'kafkajs';
import { Batcher } from './batcher';
import { defaultHeaders, encodeRecords, type EncodedRecord } from './encode';
import {
  createKafkaClient,
  resolveKafkaBusOptions,
  type KafkaBusOptions,
  type ResolvedKafkaBusOptions,
} from './kafka-config';
import { describeKafkaError, isRecordRefusal } from './kafka-errors';
import { KafkaProducer, type ProducerPort } from './kafka-producer';
import { ProducerThread } from './producer-thread';
import { TopicFollower } from './kafka-follow';
import { GroupConsumer } from './kafka-group-consumer';
import { ensureCompactedTopics } from './kafka-topics-admin';
import {
  BusRejectedError,
  BusUnavailableError,
  type Bus,
  type BusRecord,
  type BusStats,
  type ConsumedRecord,
} from './types';

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export class KafkaBus implements Bus {
  private readonly opts: ResolvedKafkaBusOptions;
  private readonly kafka: Kafka;
  private readonly batcher: Batcher;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly followers = new Set<{ stop(): Promise<void> }>();
  private readonly producer: ProducerPort;
  private closed = false;
  private wakeConnectLoop: (() => void) | undefined;

  constructor(options: KafkaBusOptions) {
    this.opts = resolveKafkaBusOptions(options);
    this.kafka = createKafkaClient(this.opts);
    this.headers = defaultHeaders(this.opts.instanceId);
    this.producer = this.createProducer(options);
    const o = this.opts;
    this.batcher = new Batcher({
      lingerMs: o.lingerMs,
      maxBatchRecords: o.maxBatchRecords,
      maxBatchBytes: o.maxBatchBytes,
      maxBufferedRecords: o.maxBufferedRecords,
      maxBufferedBytes: o.maxBufferedBytes,
      unavailableAfterMs: o.unavailableAfterMs,
      retryInitialMs: o.retryInitialMs,
      retryMaxMs: o.retryMaxMs,
      send: (batch) => this.send(batch),
      isPermanent: isRecordRefusal,
      onSendError: (err, attempt, size) => this.onSendError(err, attempt, size),
      ...(o.onProduceLatency !== undefined ? { onLatency: o.onProduceLatency } : {}),
    });
  }

  /** Creates missing compacted topics (the provisioning topics this bus follows). */
  ensureCompactedTopics(topics: readonly string[]): Promise<string[]> {
    return ensureCompactedTopics(this.kafka, topics);
  }

  /**
   * Connects the producer, retrying with backoff until it succeeds or the bus is closed. The bus
   * reports unavailable until then; publish() buffers meanwhile (and connects on its own too).
   */
  async start(): Promise<void> {
    for (let attempt = 0; !this.producer.connected() && !this.closed; attempt++) {
      try {
        await this.producer.connect();
      } catch (err) {
        this.opts.log?.warn(
          { err: describeKafkaError(err), brokers: this.opts.brokers, attempt },
          'kafka not reachable; retrying',
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            resolve,
            Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** Math.min(attempt, 20)),
          );
          this.wakeConnectLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeConnectLoop = undefined;
      }
    }
    if (this.producer.connected()) this.opts.log?.info({ brokers: this.opts.brokers }, 'kafka producer connected');
  }

  publish(records: readonly BusRecord[]): Promise<void> {
    let encoded: EncodedRecord[];
    try {
      encoded = encodeRecords(records, this.headers);
    } catch (err) {
      return this.batcher.refuse(records.length, err instanceof Error ? err : new BusRejectedError(String(err)));
    }
    return this.batcher.publish(encoded);
  }

  async follow(topic: string, handler: (record: ConsumedRecord) => Promise<void> | void): Promise<void> {
    const o = this.opts;
    const follower = new TopicFollower(this.kafka, {
      topic,
      handler,
      clientId: o.clientId,
      instanceId: o.instanceId,
      catchUpTimeoutMs: o.followCatchUpTimeoutMs,
      ...(o.log !== undefined ? { log: o.log } : {}),
    });
    await this.startReader(follower);
  }

  async consume(
    topic: string,
    groupId: string,
    handler: (record: ConsumedRecord) => Promise<void> | void,
  ): Promise<void> {
    await this.startReader(
      new GroupConsumer(this.kafka, {
        topic,
        groupId,
        handler,
        sessionTimeoutMs: this.opts.groupSessionTimeoutMs,
        ...(this.opts.log !== undefined ? { log: this.opts.log } : {}),
      }),
    );
  }

  /**
   * Starts a topic reader, stopped on close(); one that cannot start is stopped at once. A reader
   * whose start raced with close() is stopped again when its start ends: kafkajs reconnects a
   * consumer whose connect() was under way, and a live consumer would keep the process running.
   */
  private async startReader(reader: { start(): Promise<void>; stop(): Promise<void> }): Promise<void> {
    if (this.closed) throw new BusUnavailableError('the Kafka bus is closed');
    this.followers.add(reader);
    try {
      await reader.start();
    } catch (err) {
      this.followers.delete(reader);
      await reader.stop().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await reader.stop().catch(() => undefined);
      throw new BusUnavailableError('the Kafka bus was closed while a reader started');
    }
  }

  stats(): BusStats {
    const s = this.batcher.stats();
    return {
      bufferedRecords: s.bufferedRecords,
      bufferedBytes: s.bufferedBytes,
      published: s.published,
      failed: s.failed,
      sendErrors: s.sendErrors,
      available: s.available && this.producer.connected(),
    };
  }

  async close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeConnectLoop?.();
    const drained = await this.batcher.close(timeoutMs);
    if (!drained)
      this.opts.log?.warn(
        { stats: this.batcher.stats() },
        'kafka bus closed before every record was accepted; their publishes were rejected',
      );
    const followers = [...this.followers];
    this.followers.clear();
    await withTimeout(Promise.all([this.producer.disconnect(), ...followers.map((f) => f.stop())]), timeoutMs).catch(
      () => undefined,
    );
  }

  private createProducer(options: KafkaBusOptions): ProducerPort {
    const { log, onProducerRequest, onProduceLatency: _latency, producerThread, ...plain } = options;
    if (producerThread === false) return new KafkaProducer(this.kafka, this.opts, this.headers, onProducerRequest);
    return new ProducerThread({
      options: plain,
      headers: this.headers,
      ...(log !== undefined ? { log } : {}),
      ...(onProducerRequest !== undefined ? { onRequest: onProducerRequest } : {}),
    });
  }

  private send(batch: readonly EncodedRecord[]): Promise<void> {
    return this.producer.send(batch);
  }

  private onSendError(err: unknown, attempt: number, size: number): void {
    // Log the first failure of an outage and then every tenth attempt, not every retry.
    if (attempt % 10 === 0)
      this.opts.log?.warn(
        { err: describeKafkaError(err), attempt, records: size, stats: this.batcher.stats() },
        'kafka send failed; retrying',
      );
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BusUnavailableError(`kafka disconnect timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
