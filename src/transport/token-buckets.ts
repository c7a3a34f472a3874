/**
 * Token buckets by key (a source address, an endpoint name), in a table bounded in entries so
 * that a flood of spoofed sources cannot grow it without bound (DESIGN invariant 5). Each bucket
 * holds up to `burst` tokens and gains `perSecond` tokens a second; taking one from an empty
 * bucket fails. The table is kept in least-recently-used order (a Map re-inserts a key on use,
 * at most once per RECENCY_MS): when it is full, the least recently used bucket is forgotten. An
 * active flooder stays at the recent end; a forgotten idle bucket would have refilled anyway.
 * State is two numbers per key, refilled lazily on use: no timer.
 */
export interface BucketRate {
  /** Tokens gained per second; 0 or less turns the limit off (every take succeeds). */
  readonly perSecond: number;
  /** Tokens a bucket holds at most, and holds when first seen. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
  /** When the key was last moved to the most recently used end. */
  touched: number;
}

const RECENCY_MS = 1000;

export class TokenBuckets {
  private readonly map = new Map<string, Bucket>();

  constructor(
    readonly rate: BucketRate,
    private readonly maxKeys: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.rate.perSecond > 0;
  }

  /** Buckets held (at most `maxKeys`). */
  get size(): number {
    return this.map.size;
  }

  /** Takes a token from the key's bucket: false when it is empty (the caller is over its limit). */
  take(key: string): boolean {
    if (this.rate.perSecond <= 0) return true;
    const now = this.clock();
    const b = this.bucket(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until the key's bucket holds a whole token again (0: it holds one now). */
  waitMs(key: string): number {
    if (this.rate.perSecond <= 0) return 0;
    const b = this.map.get(key);
    if (b === undefined) return 0;
    const tokens = this.refilled(b, this.clock());
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / this.rate.perSecond);
  }

  private bucket(key: string, now: number): Bucket {
    let b = this.map.get(key);
    if (b === undefined) {
      // Full: forget the least recently used bucket (the first in Map order).
      if (this.map.size >= this.maxKeys) {
        const oldest = this.map.keys().next();
        if (oldest.done !== true) this.map.delete(oldest.value);
      }
      b = { tokens: this.rate.burst, at: now, touched: now };
      this.map.set(key, b);
      return b;
    }
    b.tokens = this.refilled(b, now);
    b.at = now;
    if (now - b.touched >= RECENCY_MS) {
      b.touched = now;
      this.map.delete(key);
      this.map.set(key, b);
    }
    return b;
  }

  private refilled(b: Bucket, now: number): number {
    const elapsed = Math.max(0, now - b.at); // a clock that steps back refills nothing
    return Math.min(this.rate.burst, b.tokens + (elapsed * this.rate.perSecond) / 1000);
  }
}
