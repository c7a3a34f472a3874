/**
 * Configuration from environment variables, validated with zod at start-up. A bad value stops
 * the process with a message naming the variable. Every variable is listed in .env.example.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../common/errors';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A rate per second: 0 turns the limit off. */
const rate = z.coerce.number().min(0).max(100_000_000);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const envSchema = z.object({
  COAP_HOST: z.string().min(1).default('0.0.0.0'),
  COAP_PORT: int(0, 65535).default(5683),
  /** CoAPS (DTLS 1.2) port; -1 turns CoAPS off (docs/dtls.md). */
  COAPS_PORT: int(-1, 65535).default(5684),
  /** Which UDP sockets run on a thread of their own (their system calls leave the main thread): none, the CoAPS socket, or both. */
  UDP_SOCKET_THREAD: z.enum(['none', 'coaps', 'all']).default('coaps'),
  /** Under load, datagrams cross between a socket thread and the main thread at most once per this interval each way (0: once per event-loop turn). */
  UDP_SOCKET_THREAD_INTERVAL_MS: int(0, 100).default(0),
  /** Secret shared by every instance (16+ characters): keys the DTLS cookies and seals DTLS session state in Redis; random per process when empty (then sessions do not move between instances). */
  DTLS_SHARED_SECRET: z
    .string()
    .refine((v) => v === '' || v.length >= 16, 'must be at least 16 characters (or empty for a random one per process)')
    .default(''),
  /** Length of the DTLS connection IDs issued (RFC 9146); 0 issues none. */
  DTLS_CID_LENGTH: int(0, 32).default(6),
  /** DTLS handshakes in progress at most; ClientHellos beyond it are ignored until some finish. */
  DTLS_MAX_HANDSHAKES: int(1, 10_000_000).default(10_000),
  /** A DTLS connection without traffic for this long is forgotten on this instance (the device resumes or makes a new handshake; with the shared secret it continues from Redis). */
  DTLS_IDLE_TIMEOUT_MS: int(10_000, 30 * 86_400_000).default(3_600_000),
  /** DTLS connections kept per instance at most; beyond, the oldest are forgotten first. */
  DTLS_MAX_CONNECTIONS: int(1, 100_000_000).default(500_000),
  /** How long DTLS connection state stays in Redis after its last recorded activity, for other instances to continue it. */
  DTLS_SESSION_TTL_MS: int(60_000, 30 * 86_400_000).default(86_400_000),
  /** The server's EC P-256 private key for the ECDHE_ECDSA suites (RPK, X.509): PEM text or a PEM file path; empty: PSK only. */
  DTLS_SERVER_KEY: z.string().default(''),
  /** The server's certificate chain (leaf first) for X.509 clients: PEM text or file path; empty: raw public key only. */
  DTLS_SERVER_CERT: z.string().default(''),
  /** Trust anchors for device certificates (X.509 mode): PEM text or file path; empty: X.509 clients are refused. */
  DTLS_TRUSTED_CA: z.string().default(''),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; -1 disables the HTTP server. */
  HTTP_PORT: int(-1, 65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  COAP_ACK_TIMEOUT_MS: int(100, 60_000).default(2000),
  COAP_ACK_RANDOM_FACTOR: z.coerce.number().min(1).max(4).default(1.5),
  COAP_MAX_RETRANSMIT: int(0, 10).default(4),
  COAP_NSTART: int(1, 64).default(1),
  /**
   * A request of ours acknowledged with an empty ACK waits this long for its separate response
   * (RFC 7252 §5.2.2), then ends TIMEOUT and the device's next request may run; a later response
   * is acknowledged and dropped.
   */
  COAP_SEPARATE_RESPONSE_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
  COAP_MAX_PEERS: int(1, 10_000_000).default(500_000),
  COAP_BLOCK_SIZE: z.coerce
    .number()
    .refine((n) => [16, 32, 64, 128, 256, 512, 1024].includes(n), 'must be a power of two from 16 to 1024')
    .default(1024),
  COAP_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  COAP_MAX_REASSEMBLIES: int(1, 1_000_000).default(10_000),
  COAP_MAX_REASSEMBLY_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  COAP_RECV_BUFFER_BYTES: int(0, 1 << 30).default(8 * 1024 * 1024),
  // --- Limits against the worst devices (DESIGN invariant 5; README "Rate and size limits") ---
  /** Longest CoAP message taken (plain datagram or DTLS plaintext); a longer CON request gets 4.13 with Size1, the rest is dropped. */
  COAP_MAX_MESSAGE_BYTES: int(64, 65_507).default(4096),
  /** Options per CoAP message at most; a CON request with more gets 4.00, other messages are dropped (a CON with RST). */
  COAP_MAX_OPTIONS: int(1, 10_000).default(64),
  /** Block-wise request bytes held for one source address at most (5.03 with Max-Age above it). */
  COAP_MAX_REASSEMBLY_BYTES_PER_SOURCE: int(1024, 4 * 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Datagrams per second per source address (both ports, before any parsing); over it they are dropped; 0: no limit. */
  RATE_LIMIT_SOURCE_PER_S: rate.default(200),
  RATE_LIMIT_SOURCE_BURST: int(1, 100_000_000).default(400),
  /** Requests (Register, Update, Send, …: what reaches the store) per second per source address; over it a CON gets 5.03 with Max-Age, a NON is dropped; 0: no limit. */
  RATE_LIMIT_SOURCE_REQUESTS_PER_S: rate.default(50),
  RATE_LIMIT_SOURCE_REQUESTS_BURST: int(1, 100_000_000).default(100),
  /** DTLS handshakes started per second per source address (cookie-verified ClientHellos); over it they are dropped; 0: no limit. */
  RATE_LIMIT_HANDSHAKE_PER_S: rate.default(50),
  RATE_LIMIT_HANDSHAKE_BURST: int(1, 100_000_000).default(100),
  /** Requests (Register, Update, Send, …) per second per endpoint; over it a CON gets 5.03 with Max-Age, a NON is dropped; 0: no limit. */
  RATE_LIMIT_ENDPOINT_PER_S: rate.default(20),
  RATE_LIMIT_ENDPOINT_BURST: int(1, 100_000_000).default(50),
  /** Buckets kept per limit (sources, handshake sources, endpoints) at most; beyond, the least recently used are forgotten. */
  RATE_LIMIT_MAX_KEYS: int(1, 100_000_000).default(100_000),
  LWM2M_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  LWM2M_EXPIRY_GRACE_MS: int(0, 3_600_000).default(15_000),
  LWM2M_EXPIRY_SWEEP_MS: int(100, 600_000).default(1000),
  /** Directory of extra OMA DDF XML object models; empty for the built-in ones only. */
  LWM2M_MODELS_DIR: z.string().default(''),
  /** Enables POST /debug/gc (benchmarks); never in production. */
  DEBUG_ENDPOINTS: bool.default('false'),
  /** Names this process in records and Redis (the pod name in Kubernetes). */
  INSTANCE_ID: z.string().min(1).max(200).default(`${hostname()}-${process.pid}`),
  /** Max-Age (s) of 5.03 answers while Redis or Kafka is unavailable. */
  RETRY_AFTER_S: int(1, 3600).default(30),
  /** How long a Send may wait for Kafka's acknowledgement before the device gets 5.03. */
  SEND_ACK_TIMEOUT_MS: int(100, 120_000).default(5000),
  /** After SIGTERM the process exits within this budget in every case, naming what it could not finish (drain included). */
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
  /** After SIGTERM, how long the bridge reports not ready and still serves, so load balancers stop sending first (part of SHUTDOWN_TIMEOUT_MS). */
  SHUTDOWN_DRAIN_MS: int(0, 600_000).default(0),

  // --- Redis (empty URL: in-memory store, embedded mode) ---
  REDIS_URL: z.string().default(''),
  /** Redis Cluster: REDIS_URL is then a comma-separated list of seed node URLs (redis:// or rediss://). */
  REDIS_CLUSTER: bool.default('false'),
  /** Password (AUTH) for Redis, overriding one in REDIS_URL; kept apart so that it can come from a Secret. */
  REDIS_PASSWORD: z.string().default(''),
  /** TLS towards Redis (also implied by rediss:// URLs). */
  REDIS_TLS: bool.default('false'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _.:- only')
    .default('lwm2m'),
  REDIS_CACHE_TTL_MS: int(0, 3_600_000).default(60_000),
  REDIS_CACHE_MAX: int(0, 10_000_000).default(100_000),

  // --- Kafka (empty brokers: in-process bus, embedded mode) ---
  KAFKA_BROKERS: z.string().default(''),
  KAFKA_CLIENT_ID: z.string().min(1).default('lwm2m-bridge'),
  KAFKA_TOPIC_PREFIX: z.string().default('lwm2m.'),
  KAFKA_TOPIC_TELEMETRY: z.string().min(1).default('telemetry'),
  KAFKA_TOPIC_ATTRIBUTES: z.string().min(1).default('attributes'),
  KAFKA_TOPIC_EVENTS: z.string().min(1).default('events'),
  KAFKA_TOPIC_RPC_REQUESTS: z.string().min(1).default('rpc.requests'),
  KAFKA_TOPIC_RPC_RESPONSES: z.string().min(1).default('rpc.responses'),
  KAFKA_TOPIC_DEVICES: z.string().min(1).default('devices'),
  KAFKA_TOPIC_PROFILES: z.string().min(1).default('profiles'),
  KAFKA_SSL: bool.default('false'),
  /** Trust anchors for the brokers' TLS certificates: PEM text or a PEM file path; empty: the system's CAs. Implies KAFKA_SSL. */
  KAFKA_SSL_CA: z.string().default(''),
  /** Client certificate (mutual TLS): PEM text or a PEM file path; needs KAFKA_SSL_KEY. */
  KAFKA_SSL_CERT: z.string().default(''),
  /** Client private key (mutual TLS): PEM text or a PEM file path; needs KAFKA_SSL_CERT. */
  KAFKA_SSL_KEY: z.string().default(''),
  KAFKA_SASL_MECHANISM: z.enum(['', 'plain', 'scram-sha-256', 'scram-sha-512']).default(''),
  KAFKA_SASL_USERNAME: z.string().default(''),
  KAFKA_SASL_PASSWORD: z.string().default(''),
  KAFKA_LINGER_MS: int(0, 10_000).default(5),
  KAFKA_MAX_BATCH_RECORDS: int(1, 1_000_000).default(2000),
  KAFKA_MAX_BATCH_BYTES: int(1024, 100 * 1024 * 1024).default(1_000_000),
  KAFKA_MAX_BUFFERED_RECORDS: int(1, 100_000_000).default(100_000),
  KAFKA_MAX_BUFFERED_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  KAFKA_UNAVAILABLE_AFTER_MS: int(100, 3_600_000).default(5000),
  KAFKA_COMPRESSION: z.enum(['gzip', 'none']).default('gzip'),
  KAFKA_PRODUCER_THREAD: bool.default('true'),

  // --- RPC (docs/rpc-routing.md) ---
  /** Deadline of an RPC request that gives neither timeoutMs nor expiresAt. */
  RPC_DEFAULT_TIMEOUT_MS: int(100, 7 * 86_400_000).default(120_000),
  /** How long a queue-mode device stays reachable after an uplink (LwM2M 1.1 default: MAX_TRANSMIT_WAIT 93 s). */
  LWM2M_QUEUE_AWAKE_MS: int(0, 86_400_000).default(93_000),
  /** Heartbeat of this instance in Redis; it counts as gone (its devices' RPC taken over) after 3 missed beats. */
  INSTANCE_HEARTBEAT_MS: int(100, 60_000).default(5000),
  /** Session timeout of the RPC consumer group: how soon a dead instance's request partitions go to the others (the broker bounds it, 6-300 s by default). */
  KAFKA_RPC_SESSION_TIMEOUT_MS: int(1000, 3_600_000).default(30_000),
  /** Consumer group of the RPC requests topic, shared by every instance; default "<KAFKA_CLIENT_ID>.rpc". */
  KAFKA_RPC_GROUP_ID: z.string().default(''),
  /** Bearer token of the HTTP device and RPC API; required outside embedded mode (else that API answers 401). */
  HTTP_API_TOKEN: z.string().default(''),

  // --- Profiles ---
  /** Directory of profile JSON files, watched; empty for none. */
  PROFILES_DIR: z.string().default(''),
  PROFILES_DIR_DEBOUNCE_MS: int(0, 60_000).default(200),
  PROFILES_DIR_RESCAN_MS: int(0, 3_600_000).default(30_000),
  /** JSON list of {pattern, profile}: glob or /regex/flags on the endpoint name, first match wins. */
  PROFILE_RULES: z.string().default('[]'),
  PROFILE_SETUP_CONCURRENCY: int(1, 10_000).default(64),
  /** Setup requests outstanding at once across devices (one per device always: RFC 7252 §4.7 NSTART = 1). */
  PROFILE_SETUP_MAX_OUTSTANDING: int(1, 100_000).default(64),
  PROFILE_COMPOSITE_SEPARATE_TIMEOUT_MS: int(100, 3_600_000).default(2_000),
  PROFILE_ASSIGNMENT_CACHE_SIZE: int(0, 10_000_000).default(100_000),
  PROFILE_ASSIGNMENT_CACHE_TTL_MS: int(0, 3_600_000).default(30_000),
});

export type Config = z.infer<typeof envSchema>;

/** Parses the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(envSchema.shape);
  const input: Record<string, string> = {};
  for (const k of known) {
    const v = env[k];
    if (v !== undefined && v !== '') input[k] = v;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `${i.path.join('.')}=${JSON.stringify(input[String(i.path[0])] ?? '')}: ${i.message}`,
    );
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
