/**
 * The idempotent kafkajs producer behind the Kafka bus: connects, sends one batch per call, and
 * replaces itself when the broker no longer accepts its producer id or sequence. It runs either
 * in the bridge's main thread or in the producer thread (producer-worker.ts), where its
 * encoding, partitioning and compression do not compete with the CoAP path.
 *
 * Everything it takes is plain data (ProducerRecord), so a batch can cross a thread boundary.
 */
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { compressionType, type ResolvedKafkaBusOptions } from './kafka-config';
import { needsNewProducer } from './kafka-errors';

/** One record as the producer sends it; headers undefined (or the defaults themselves): the bus's default headers. */
export interface ProducerRecord {
  readonly topic: string;
  readonly key: string;
  /** JSON text, or null for a tombstone. */
  readonly value: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ProducerRequestInfo {
  readonly apiName: string;
  readonly size: number;
  readonly durationMs: number;
}

/** What the bus needs of a producer, wherever it runs. */
export interface ProducerPort {
  /** Connects (or joins the connection under way); rejects when the broker cannot be reached. */
  connect(): Promise<void>;
  /** Sends one batch; resolves once the broker acknowledged all of it (acks = all). */
  send(batch: readonly ProducerRecord[]): Promise<void>;
  /** Whether the current producer is connected. */
  connected(): boolean;
  disconnect(): Promise<void>;
}

export class KafkaProducer implements ProducerPort {
  private producer: Producer;
  private isConnected = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: ResolvedKafkaBusOptions,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly onRequest?: (info: ProducerRequestInfo) => void,
  ) {
    this.producer = this.newProducer();
  }

  connected(): boolean {
    return this.isConnected;
  }

  connect(): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.connecting === undefined) {
      const producer = this.producer;
      this.connecting = producer
        .connect()
        .then(() => {
          if (producer === this.producer) this.isConnected = true;
        })
        .finally(() => {
          this.connecting = undefined;
        });
    }
    return this.connecting;
  }

  async send(batch: readonly ProducerRecord[]): Promise<void> {
    await this.connect();
    const byTopic = new Map<string, Message[]>();
    for (const r of batch) {
      let messages = byTopic.get(r.topic);
      if (messages === undefined) byTopic.set(r.topic, (messages = []));
      messages.push({ key: r.key, value: r.value, headers: r.headers ?? this.headers });
    }
    try {
      await this.producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
        compression: compressionType(this.opts),
        timeout: this.opts.requestTimeoutMs,
      });
    } catch (err) {
      if (needsNewProducer(err)) {
        // The broker no longer knows our producer id or sequence: go on with a new idempotent producer.
        const old = this.producer;
        this.producer = this.newProducer();
        this.isConnected = false;
        old.disconnect().catch(() => undefined);
      }
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
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
    const hook = this.onRequest;
    if (hook !== undefined) {
      producer.on(producer.events.REQUEST, (e) =>
        hook({ apiName: e.payload.apiName, size: e.payload.size, durationMs: e.payload.duration }),
      );
    }
    return producer;
  }
}
