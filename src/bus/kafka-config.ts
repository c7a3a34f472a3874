/**
 * Options of the Kafka bus, their defaults, and the kafkajs client built from them. Environment
 * parsing lives in src/config; this module only says what the bus needs.
 */
import { CompressionTypes, Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';

/** The logger the bus writes to (pino's Logger fits). */
export interface BusLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KafkaSasl {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** TLS towards the brokers: PEM texts (the trust anchors, and a client certificate and key for mutual TLS). */
export interface KafkaTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  /** Identifies this bridge process: the `instance-id` header and part of consumer group ids. */
  readonly instanceId: string;
  readonly clientId?: string;
  /** true: TLS with the system's trust store; an object: TLS with these PEM texts. */
  readonly ssl?: boolean | KafkaTls;
  readonly sasl?: KafkaSasl;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** How long a batch may wait for more records. */
  readonly lingerMs?: number;
  readonly maxBatchRecords?: number;
  /** Uncompressed bytes per batch; also the largest record. Keep under the broker's message.max.bytes. */
  readonly maxBatchBytes?: number;
  readonly maxBufferedRecords?: number;
  readonly maxBufferedBytes?: number;
  /** Records waiting with no acknowledgement for this long: publish fails fast, stats().available is false. */
  readonly unavailableAfterMs?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly compression?: 'gzip' | 'none';
  /** How long follow() may take to read a topic up to its end as of subscription. */
  readonly followCatchUpTimeoutMs?: number;
  /** Session timeout of the group consumer (RPC requests): how soon a dead member's partitions move. */
  readonly groupSessionTimeoutMs?: number;
  readonly log?: BusLog;
  /** Level of kafkajs's own logs routed to `log` (at warn); 'nothing' silences them. */
  readonly kafkaLogLevel?: 'nothing' | 'error' | 'warn' | 'info';
  /** Called per resolved publish() with the ms from publish() to the broker's acknowledgement. */
  readonly onProduceLatency?: (ms: number) => void;
  /** Run the kafkajs producer on a thread of its own (default true); false: in the calling thread. */
  readonly producerThread?: boolean;
  /** Called per producer request (Produce, Metadata...) with its size in bytes and duration. */
  readonly onProducerRequest?: (info: {
    readonly apiName: string;
    readonly size: number;
    readonly durationMs: number;
  }) => void;
}

export type ResolvedKafkaBusOptions = Required<
  Omit<KafkaBusOptions, 'ssl' | 'sasl' | 'log' | 'onProduceLatency' | 'onProducerRequest' | 'producerThread'>
> &
  Pick<KafkaBusOptions, 'ssl' | 'sasl' | 'log' | 'onProduceLatency' | 'onProducerRequest'>;

export const KAFKA_BUS_DEFAULTS = {
  clientId: 'lwm2m-bridge',
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 30_000,
  lingerMs: 5,
  maxBatchRecords: 2_000,
  maxBatchBytes: 1_000_000,
  maxBufferedRecords: 100_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  unavailableAfterMs: 5_000,
  retryInitialMs: 100,
  retryMaxMs: 2_000,
  compression: 'gzip',
  followCatchUpTimeoutMs: 60_000,
  groupSessionTimeoutMs: 30_000,
  kafkaLogLevel: 'warn',
} as const;

export function resolveKafkaBusOptions(opts: KafkaBusOptions): ResolvedKafkaBusOptions {
  const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { ...KAFKA_BUS_DEFAULTS, ...defined, brokers: opts.brokers, instanceId: opts.instanceId };
}

export function compressionType(o: ResolvedKafkaBusOptions): CompressionTypes {
  return o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
}

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO } as const;

/** Messages kafkajs logs that say what we chose on purpose. */
const EXPECTED = ['Limiting retries for the idempotent producer'];

/** The same kafkajs message (one per connection attempt during an outage) is logged at most this often. */
const REPEAT_INTERVAL_MS = 30_000;

function logCreator(log: BusLog | undefined): KafkaConfig['logCreator'] {
  const lastLogged = new Map<string, number>();
  return () =>
    ({ namespace, label, log: entry }: LogEntry) => {
      if (log === undefined) return;
      const { message, timestamp: _ts, logger: _l, stack: _s, ...fields } = entry;
      if (EXPECTED.some((m) => message.startsWith(m))) return;
      const now = Date.now();
      const key = `${namespace}|${message}`;
      if (now - (lastLogged.get(key) ?? -Infinity) < REPEAT_INTERVAL_MS) return;
      if (lastLogged.size >= 1_000) lastLogged.clear();
      lastLogged.set(key, now);
      // kafkajs errors are mostly transient broker trouble the bus retries: warn, not error.
      log.warn({ kafkajs: namespace, level: label, ...fields }, `kafkajs: ${message}`);
    };
}

function sasl(s: KafkaSasl): SASLOptions {
  switch (s.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: s.username, password: s.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: s.username, password: s.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: s.username, password: s.password };
  }
}

export function createKafkaClient(o: ResolvedKafkaBusOptions): Kafka {
  return new Kafka({
    clientId: o.clientId,
    brokers: [...o.brokers],
    connectionTimeout: o.connectionTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    ...(o.ssl === true ? { ssl: true } : typeof o.ssl === 'object' ? { ssl: { ...o.ssl } } : {}),
    ...(o.sasl !== undefined ? { sasl: sasl(o.sasl) } : {}),
    retry: { initialRetryTime: o.retryInitialMs, maxRetryTime: o.retryMaxMs, retries: 5 },
    logLevel: LEVELS[o.kafkaLogLevel],
    logCreator: logCreator(o.log),
  });
}
