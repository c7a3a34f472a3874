/**
 * Latency samples and percentiles. Samples are milliseconds (performance.now() differences,
 * microsecond resolution) kept in a growable Float64Array so that recording costs no allocation.
 */

export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

export class SampleBuffer {
  private data: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1 << 16) {
    this.data = new Float64Array(initialCapacity);
  }

  push(v: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = v;
  }

  get length(): number {
    return this.n;
  }

  /** A compact copy, suitable for transfer to another thread. */
  toArray(): Float64Array {
    return this.data.slice(0, this.n);
  }
}

export function concatSamples(parts: readonly Float64Array[]): Float64Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Float64Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] as number;
  return {
    count: sorted.length,
    minMs: round3(sorted.length ? (sorted[0] as number) : Number.NaN),
    meanMs: round3(sorted.length ? sum / sorted.length : Number.NaN),
    p50Ms: round3(percentile(sorted, 50)),
    p90Ms: round3(percentile(sorted, 90)),
    p99Ms: round3(percentile(sorted, 99)),
    p999Ms: round3(percentile(sorted, 99.9)),
    maxMs: round3(sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN),
  };
}

/** Median of a list (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
