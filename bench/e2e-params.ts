/**
 * Parameters of the end-to-end benchmark (`node dist/bench/e2e.js --name=value ...`).
 */
import type { E2eFormat } from './e2e-protocol';
import { parseArgs } from './params';

export interface E2eParams {
  /** Prefix of the results file name. */
  readonly name: string;
  /** Devices that register, get observed and notify; one UDP socket each. */
  readonly devices: number;
  /** CON notifications outstanding at most (one per device at a time). */
  readonly window: number;
  /**
   * Notifications outstanding at most in the paced runs: large, so that the pace and not the
   * window sets the rate (at 20,000/s and 8 ms each, 160 are in flight).
   */
  readonly pacedWindow: number;
  readonly timeoutMs: number;
  readonly registerRetries: number;
  readonly lifetimeS: number;
  readonly format: E2eFormat;
  /** Closed-loop runs (no rate cap): the throughput figure is their median. */
  readonly runs: number;
  /** Runs paced at `targetRate` notifications/s: the latency at the target load. 0 skips them. */
  readonly targetRuns: number;
  readonly targetRate: number;
  /** Load before the first run, not measured: the bridge, Kafka and Redis reach a steady state (JIT, heaps, caches). */
  readonly primeS: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly pauseS: number;
  /** After a run, wait at most this long for the bridge's Kafka buffer to empty. */
  readonly drainTimeoutS: number;
  /** Wait at most this long for every device to be observed after registering. */
  readonly observeTimeoutS: number;
  /**
   * Read Kafka during the runs (true: also gives consume time - send time) or only after each
   * run's window (false: the consumer takes no CPU while the bridge is measured; the append-time
   * latency is the same either way, it is recorded by the broker).
   */
  readonly liveConsumer: boolean;
  /** Partitions of the telemetry topic. */
  readonly partitions: number;
  /** Heap of the Kafka broker JVM (-Xms and -Xmx) when the bench starts it. */
  readonly brokerHeap: string;
  /** Extra bridge environment as JSON, e.g. '{"KAFKA_LINGER_MS":"2"}'. */
  readonly bridgeEnv: string;
  readonly quietWaitS: number;
  readonly quietPercent: number;
  /** Device counts at which heap per idle device is measured (Redis mode, each on a fresh bridge). */
  readonly heapLevels: readonly number[];
  readonly heapBatch: number;
  /** Measure again after EXCHANGE_LIFETIME (≈ 4 min): the idle figure. false: fresh only. */
  readonly idle: boolean;
  readonly skipHeap: boolean;
  readonly skipThroughput: boolean;
  /** Run the bridge with --cpu-prof during the throughput phase; profiles go to bench/results/profiles. */
  readonly profile: boolean;
  /**
   * nosec: devices on the plain port; psk: devices make a PSK handshake and notify over CoAPS;
   * compare: the plain throughput phase, then the same closed-loop runs over DTLS, and the ratio.
   */
  readonly security: string;
}

export const E2E_DEFAULTS: E2eParams = {
  name: 'coap-redis-kafka-e2e',
  devices: 10_000,
  window: 64,
  pacedWindow: 1024,
  timeoutMs: 2000,
  registerRetries: 3,
  lifetimeS: 86_400,
  format: 'senml-json',
  runs: 5,
  targetRuns: 3,
  targetRate: 20_000,
  primeS: 20,
  warmupS: 3,
  durationS: 10,
  pauseS: 2,
  drainTimeoutS: 30,
  observeTimeoutS: 120,
  liveConsumer: false,
  partitions: 1,
  brokerHeap: '512m',
  bridgeEnv: '',
  quietWaitS: 60,
  quietPercent: 25,
  heapLevels: [100_000],
  heapBatch: 5000,
  idle: true,
  skipHeap: false,
  skipThroughput: false,
  profile: false,
  security: 'nosec',
};

export function parseE2eParams(argv: readonly string[]): E2eParams {
  const p = parseArgs(E2E_DEFAULTS, argv);
  if (p.format !== 'senml-json' && p.format !== 'senml-cbor')
    throw new Error('--format must be senml-json or senml-cbor');
  if (p.devices > 15_000) throw new Error('--devices: at most 15000 (one socket each; ulimit -n is the bound)');
  if (p.pacedWindow > p.devices)
    throw new Error('--pacedWindow cannot exceed --devices (one notification per device at a time)');
  if (p.window > p.devices) throw new Error('--window cannot exceed --devices (one notification per device at a time)');
  if (!['nosec', 'psk', 'compare'].includes(p.security)) throw new Error('--security must be nosec, psk or compare');
  extraBridgeEnv(p);
  return p;
}

export function extraBridgeEnv(p: E2eParams): Record<string, string> {
  if (p.bridgeEnv === '') return {};
  const parsed: unknown = JSON.parse(p.bridgeEnv);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('--bridgeEnv must be a JSON object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) out[k] = String(v);
  return out;
}
