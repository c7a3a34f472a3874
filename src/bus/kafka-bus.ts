/**
 * The Bus on Apache Kafka (kafkajs), as docs/kafka/README.md describes it:
 *
 * - one idempotent producer (acks = all, one request in flight per broker, gzip), fed by a
 *   Batcher: records are grouped into one `sendBatch` per linger interval or full batch;
 * - publish() resolves once the broker acknowledged every record of the call;
 * - bounded buffer and fail-fast BusUnavailableError when it is full or the broker has
 *   acknowledged nothing for `unavailableAfterMs`; retries go on in the background and the bus
 *   recovers by itself;
 * - follow() reads provisioning topics from their beginning (./kafka-follow.ts);
 * - close() flushes within a bound, then disconnects.
 */
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { Batcher } from './batcher';
import { defaultHeaders, encodeRecords, type EncodedRecord } from './encode';
import { compressionType, createKafkaClient, resolveKafkaBusOptions, type KafkaBusOptions, type ResolvedKafkaBusOptions } from './kafka-config';
import { describeKafkaError, isRecordRefusal, needsNewProducer } from './kafka-errors';
import { TopicFollower } from './kafka-follow';
import { ensureCompactedTopics } from './kafka-topics-admin';
import { BusRejectedError, BusUnavailableError, type Bus, type BusRecord, type BusStats, type ConsumedRecord } from './types';

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export class KafkaBus implements Bus {
  private readonly opts: ResolvedKafkaBusOptions;
  private readonly kafka: Kafka;
  private readonly batcher: Batcher;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly followers = new Set<TopicFollower>();
  private producer: Producer;
  private connected = false;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private wakeConnectLoop: (() => void) | undefined;

  constructor(options: KafkaBusOptions) {
    this.opts = resolveKafkaBusOptions(options);
    this.kafka = createKafkaClient(this.opts);
    this.headers = defaultHeaders(this.opts.instanceId);
    this.producer = this.newProducer();
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
    for (let attempt = 0; !this.connected && !this.closed; attempt++) {
      try {
        await this.ensureConnected();
      } catch (err) {
        this.opts.log?.warn({ err: describeKafkaError(err), brokers: this.opts.brokers, attempt }, 'kafka not reachable; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** Math.min(attempt, 20)));
          this.wakeConnectLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeConnectLoop = undefined;
      }
    }
    if (this.connected) this.opts.log?.info({ brokers: this.opts.brokers }, 'kafka producer connected');
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
    this.followers.add(follower);
    try {
      await follower.start();
    } catch (err) {
      this.followers.delete(follower);
      await follower.stop().catch(() => undefined);
      throw err;
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
      available: s.available && this.connected,
    };
  }

  async close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeConnectLoop?.();
    const drained = await this.batcher.close(timeoutMs);
    if (!drained) this.opts.log?.warn({ stats: this.batcher.stats() }, 'kafka bus closed before every record was accepted; their publishes were rejected');
    const followers = [...this.followers];
    this.followers.clear();
    await withTimeout(Promise.all([this.producer.disconnect(), ...followers.map((f) => f.stop())]), timeoutMs).catch(() => undefined);
  }

  private newProducer(): Producer {
    const producer = this.kafka.producer({
      idempotent: true,
      // kafkajs requires one request in flight for idempotence; it also keeps records in order.
      maxInFlightRequests: 1,
      // murmur2 of the key, as Java clients: a device's records land where a Java producer would put them.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      retry: { initialRetryTime: this.opts.retryInitialMs, maxRetryTime: this.opts.retryMaxMs, retries: 5 },
    });
    const hook = this.opts.onProducerRequest;
    if (hook !== undefined) {
      producer.on(producer.events.REQUEST, (e) => hook({ apiName: e.payload.apiName, size: e.payload.size, durationMs: e.payload.duration }));
    }
    return producer;
  }

  private ensureConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.connecting === undefined) {
      const producer = this.producer;
      this.connecting = producer
        .connect()
        .then(() => {
          if (producer === this.producer) this.connected = true;
        })
        .finally(() => {
          this.connecting = undefined;
        });
    }
    return this.connecting;
  }

  private async send(batch: readonly EncodedRecord[]): Promise<void> {
    await this.ensureConnected();
    const byTopic = new Map<string, Message[]>();
    for (const r of batch) {
      let messages = byTopic.get(r.topic);
      if (messages === undefined) byTopic.set(r.topic, (messages = []));
      messages.push({ key: r.key, value: r.value, headers: r.headers });
    }
    await this.producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      acks: -1,
      compression: compressionType(this.opts),
      timeout: this.opts.requestTimeoutMs,
    });
  }

  private onSendError(err: unknown, attempt: number, size: number): void {
    // Log the first failure of an outage and then every tenth attempt, not every retry.
    if (attempt % 10 === 0) this.opts.log?.warn({ err: describeKafkaError(err), attempt, records: size, stats: this.batcher.stats() }, 'kafka send failed; retrying');
    if (needsNewProducer(err)) {
      // The broker no longer knows our producer id or sequence: go on with a new idempotent producer.
      const old = this.producer;
      this.producer = this.newProducer();
      this.connected = false;
      old.disconnect().catch(() => undefined);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BusUnavailableError(`kafka disconnect timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
