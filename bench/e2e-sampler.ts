/**
 * Resource samples of the end-to-end benchmark: CPU of each process taking part (bridge, Kafka
 * broker, Redis, the Kafka consumer, this bench process with its device worker) and of the whole
 * machine, so that "others" is only what does not belong to the benchmark; plus the bridge's
 * /metrics, labelled series and histograms included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuPressureAvg10, cpuSeconds, machineCpuSeconds } from './proc';

export type ProcName = 'bridge' | 'kafka' | 'redis' | 'consumer';

export interface CpuSample {
  readonly atMs: number;
  readonly procs: Partial<Record<ProcName, number>>;
  readonly bench: number;
  readonly machineBusy: number | undefined;
}

/** CPU in percent of one core over a window (200 = both cores of a 2-core machine). */
export interface CpuUsage {
  readonly bridge?: number;
  readonly bridgeSystem?: number;
  readonly kafka?: number;
  readonly redis?: number;
  readonly consumer?: number;
  /** This process: the device worker thread and the orchestration. */
  readonly generator: number;
  readonly machine?: number;
  /** machine - everything above: processes that are not part of the benchmark. */
  readonly others?: number;
  readonly cpuPressureAvg10?: number;
}

/** Direct children of this process whose command name is `comm` (e.g. "java", "redis-server"). */
export function childPids(comm: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === process.pid && stat.slice(open + 1, close) === comm) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function cpuSample(
  pids: Partial<Record<ProcName, number>>,
): CpuSample & { readonly bridgeSystem: number | undefined } {
  const procs: Partial<Record<ProcName, number>> = {};
  let bridgeSystem: number | undefined;
  for (const [name, pid] of Object.entries(pids) as Array<[ProcName, number | undefined]>) {
    if (pid === undefined) continue;
    const c = cpuSeconds(pid);
    if (c === undefined) continue;
    procs[name] = c.user + c.system;
    if (name === 'bridge') bridgeSystem = c.system;
  }
  const self = process.cpuUsage();
  return {
    atMs: performance.now(),
    procs,
    bench: (self.user + self.system) / 1e6,
    machineBusy: machineCpuSeconds()?.busy,
    bridgeSystem,
  };
}

export function cpuUsage(a: ReturnType<typeof cpuSample>, b: ReturnType<typeof cpuSample>): CpuUsage {
  const s = (b.atMs - a.atMs) / 1000;
  const pct = (x: number | undefined, y: number | undefined): number | undefined =>
    x === undefined || y === undefined ? undefined : Math.round(((y - x) / s) * 1000) / 10;
  const names: ProcName[] = ['bridge', 'kafka', 'redis', 'consumer'];
  const out: Record<string, number | undefined> = {};
  let ours = pct(a.bench, b.bench) ?? 0;
  for (const n of names) {
    const v = pct(a.procs[n], b.procs[n]);
    if (v === undefined) continue;
    out[n] = v;
    ours += v;
  }
  const machine = pct(a.machineBusy, b.machineBusy);
  const pressure = cpuPressureAvg10();
  return {
    ...out,
    ...(pct(a.bridgeSystem, b.bridgeSystem) !== undefined ? { bridgeSystem: pct(a.bridgeSystem, b.bridgeSystem) } : {}),
    generator: pct(a.bench, b.bench) ?? 0,
    ...(machine !== undefined ? { machine, others: Math.max(0, Math.round((machine - ours) * 10) / 10) } : {}),
    ...(pressure !== undefined ? { cpuPressureAvg10: pressure } : {}),
  };
}

export interface QuietCheck {
  readonly othersPercent: number | undefined;
  readonly waitedS: number;
  readonly quiet: boolean;
}

/** Waits (at most maxWaitS) until processes outside the benchmark use less than `thresholdPercent` of a core over 1 s. */
export async function waitForQuiet(
  pids: Partial<Record<ProcName, number>>,
  maxWaitS: number,
  thresholdPercent: number,
): Promise<QuietCheck> {
  const start = performance.now();
  for (;;) {
    const a = cpuSample(pids);
    await new Promise((r) => setTimeout(r, 1000));
    const others = cpuUsage(a, cpuSample(pids)).others;
    const waitedS = Math.round((performance.now() - start) / 100) / 10;
    if (others === undefined || others < thresholdPercent) return { othersPercent: others, waitedS, quiet: true };
    if (waitedS >= maxWaitS) return { othersPercent: others, waitedS, quiet: false };
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Every sample line of a Prometheus text exposition, keyed as printed: `name` or `name{labels}`. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) ([0-9.eE+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

export function delta(a: Map<string, number>, b: Map<string, number>, key: string): number | undefined {
  const x = a.get(key);
  const y = b.get(key);
  return x === undefined || y === undefined ? undefined : y - x;
}

export interface HistogramWindow {
  readonly count: number;
  readonly meanMs: number | undefined;
  /** Upper bound (le) of the bucket holding each quantile, in ms: "at most". */
  readonly p50AtMostMs: number | undefined;
  readonly p90AtMostMs: number | undefined;
  readonly p99AtMostMs: number | undefined;
  /** Observations per bucket upper bound (ms), not cumulative. */
  readonly buckets: Record<string, number>;
}

/** A histogram's observations between two scrapes (label-free histograms). */
export function histogramWindow(a: Map<string, number>, b: Map<string, number>, name: string): HistogramWindow {
  const bounds: Array<{ le: number; cum: number }> = [];
  for (const [key, v] of b) {
    const m = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(key);
    if (m) bounds.push({ le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), cum: v - (a.get(key) ?? 0) });
  }
  bounds.sort((x, y) => x.le - y.le);
  const count = delta(a, b, `${name}_count`) ?? 0;
  const sum = delta(a, b, `${name}_sum`) ?? 0;
  const q = (p: number): number | undefined => {
    const hit = bounds.find((x) => x.cum >= p * count);
    return count === 0 || hit === undefined ? undefined : hit.le * 1000;
  };
  const buckets: Record<string, number> = {};
  bounds.forEach(
    (x, i) =>
      (buckets[Number.isFinite(x.le) ? String(x.le * 1000) : '+Inf'] =
        x.cum - (i > 0 ? (bounds[i - 1] as { cum: number }).cum : 0)),
  );
  return {
    count,
    meanMs: count > 0 ? Math.round((sum / count) * 1e6) / 1e3 : undefined,
    p50AtMostMs: q(0.5),
    p90AtMostMs: q(0.9),
    p99AtMostMs: q(0.99),
    buckets,
  };
}

/**
 * The bridge's GC and event-loop delay between two scrapes (prom-client's default metrics; the
 * event-loop histogram restarts at each scrape, so the second scrape's figures cover the window).
 */
export interface RuntimeWindow {
  readonly scavenges: number | undefined;
  readonly scavengeMeanMs: number | undefined;
  readonly scavengeTotalMs: number | undefined;
  readonly majorGcs: number | undefined;
  readonly majorGcTotalMs: number | undefined;
  readonly eventLoopDelayP99Ms: number | undefined;
  readonly eventLoopDelayMaxMs: number | undefined;
}

export function runtimeWindow(a: Map<string, number>, b: Map<string, number>): RuntimeWindow {
  const ms = (s: number | undefined): number | undefined => (s === undefined ? undefined : Math.round(s * 1e6) / 1e3);
  const scavenges = delta(a, b, 'nodejs_gc_duration_seconds_count{kind="minor"}');
  const scavengeS = delta(a, b, 'nodejs_gc_duration_seconds_sum{kind="minor"}');
  return {
    scavenges,
    scavengeMeanMs: scavenges && scavengeS !== undefined ? ms(scavengeS / scavenges) : undefined,
    scavengeTotalMs: ms(scavengeS),
    majorGcs: delta(a, b, 'nodejs_gc_duration_seconds_count{kind="major"}'),
    majorGcTotalMs: ms(delta(a, b, 'nodejs_gc_duration_seconds_sum{kind="major"}')),
    eventLoopDelayP99Ms: ms(b.get('nodejs_eventloop_lag_p99_seconds')),
    eventLoopDelayMaxMs: ms(b.get('nodejs_eventloop_lag_max_seconds')),
  };
}
