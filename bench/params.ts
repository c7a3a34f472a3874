/**
 * Benchmark parameters: defaults, overridable as `--name=value` arguments
 * (`npm run bench -- --runs=5 --window=128`).
 */
import type { SendFormat } from './coap-frames';

export interface BenchParams {
  /** Prefix of the results file name. */
  readonly name: string;
  /** Devices registered in phase (a) and sending in phase (b); one UDP socket each. */
  readonly devices: number;
  /** Load-generator worker threads. */
  readonly workers: number;
  /** Outstanding requests at most (all workers together), one per device at a time. */
  readonly window: number;
  readonly timeoutMs: number;
  readonly registerRetries: number;
  readonly lifetimeS: number;
  readonly format: SendFormat;
  readonly runs: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Pause between Send runs (the machine is shared; lets background work settle). */
  readonly pauseS: number;
  /** Before each measurement, wait up to this long for other processes to calm down. */
  readonly quietWaitS: number;
  /** "Calm": other processes use less than this share of one core (percent). */
  readonly quietPercent: number;
  /** Device counts at which heap per device is measured (each on a fresh server). */
  readonly heapLevels: readonly number[];
  /** Sockets open at once when registering heap-phase devices (ulimit -n is the bound). */
  readonly heapBatch: number;
  /** Also measure once the servers' deduplication state has expired (≈ EXCHANGE_LIFETIME, 247 s). */
  readonly idle: boolean;
  /** Run the server with --cpu-prof during phases (a) and (b); profiles go to bench/results/profiles. */
  readonly profile: boolean;
  readonly skipHeap: boolean;
}

export const DEFAULTS: BenchParams = {
  name: 'coap-inmemory',
  devices: 10_000,
  workers: 1,
  window: 64,
  timeoutMs: 2000,
  registerRetries: 3,
  lifetimeS: 86_400,
  format: 'senml-json',
  runs: 3,
  warmupS: 3,
  durationS: 10,
  pauseS: 2,
  quietWaitS: 60,
  quietPercent: 25,
  heapLevels: [10_000, 100_000],
  heapBatch: 5000,
  idle: true,
  profile: false,
  skipHeap: false,
};

export function parseParams(argv: readonly string[]): BenchParams {
  const out = parseArgs(DEFAULTS, argv);
  if (out.format !== 'senml-json' && out.format !== 'senml-cbor')
    throw new Error('--format must be senml-json or senml-cbor');
  return out;
}

/** `--name=value` arguments over `defaults`: booleans, non-negative numbers, number lists, strings. */
export function parseArgs<T extends object>(defaults: T, argv: readonly string[]): T {
  const known = new Map<string, unknown>(Object.entries(defaults));
  const out = new Map<string, unknown>(known);
  for (const arg of argv) {
    const m = /^--([a-zA-Z]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unrecognised argument ${arg} (expected --name=value)`);
    const key = m[1] as string;
    const raw = m[2];
    if (!known.has(key)) throw new Error(`unknown parameter --${key}; known: ${[...known.keys()].join(', ')}`);
    const dflt = known.get(key);
    if (typeof dflt === 'boolean') out.set(key, raw === undefined || raw === 'true' || raw === '1');
    else if (typeof dflt === 'number') out.set(key, positive(key, raw));
    else if (Array.isArray(dflt))
      out.set(
        key,
        (raw ?? '')
          .split(',')
          .filter((s) => s !== '')
          .map((s) => positive(key, s)),
      );
    else out.set(key, raw ?? '');
  }
  return Object.fromEntries(out) as T;
}

function positive(key: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${key} needs a non-negative number, got ${raw}`);
  return n;
}
