/**
 * A bounded in-process cache: least recently used entries go first, and every entry expires
 * `ttlMs` after it was written. The only kind of in-process session data in Redis mode
 * (invariant 1: "in-process data are bounded caches of Redis"). A Map keeps insertion order,
 * so re-inserting on a hit is the LRU bookkeeping. Recency has a resolution of
 * RECENCY_RESOLUTION_MS: a hit re-inserts an entry only when its last re-insertion is older, so a
 * device notifying many times a second costs one Map re-insertion per second, not one per hit.
 */
const PRUNE_PER_SET = 4;
export const RECENCY_RESOLUTION_MS = 1000;

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  /** When the entry was last (re-)inserted, i.e. moved to the most recently used end. */
  touchedAt: number;
}

export class TtlLruCache<V> {
  private readonly map = new Map<string, Entry<V>>();

  /**
   * @param jitter fraction of `ttlMs` taken off at random per entry (0: none), so that entries
   *   filled together (a fleet after a restart) do not all expire, and miss, in the same instant.
   */
  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly jitter = 0,
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    const now = this.clock();
    if (entry.expiresAt <= now) {
      this.map.delete(key);
      return undefined;
    }
    if (now - entry.touchedAt >= RECENCY_RESOLUTION_MS) {
      entry.touchedAt = now;
      this.map.delete(key);
      this.map.set(key, entry);
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.max <= 0 || this.ttlMs <= 0) return;
    const now = this.clock();
    this.map.delete(key);
    const ttl = this.jitter > 0 ? this.ttlMs - Math.floor(this.random() * this.jitter * this.ttlMs) : this.ttlMs;
    this.map.set(key, { value, expiresAt: now + ttl, touchedAt: now });
    // Least recently used first: drop a few expired entries there (idle devices' copies do not
    // wait for the bound), then whatever exceeds the bound.
    let pruned = 0;
    for (const [k, entry] of this.map) {
      if (this.map.size <= this.max && (pruned >= PRUNE_PER_SET || entry.expiresAt > now)) break;
      this.map.delete(k);
      pruned++;
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /**
   * Drops the expired entries among the `maxScan` least recently used ones, so that idle devices'
   * copies are released even when no set() comes to prune them. get() never returns an expired
   * entry, so this only frees memory. Returns how many entries were dropped.
   */
  pruneExpired(maxScan: number): number {
    const now = this.clock();
    let scanned = 0;
    let dropped = 0;
    for (const [k, entry] of this.map) {
      if (scanned++ >= maxScan) break;
      if (entry.expiresAt <= now) {
        this.map.delete(k);
        dropped++;
      }
    }
    return dropped;
  }
}

/**
 * A TtlLruCache filled by reads that may overlap this instance's own writes. A read takes a
 * ticket before it asks Redis and may fill the cache only if no write of this instance touched
 * the key since — otherwise a slow read could put back the state a write just replaced, and
 * the instance would not see its own write until the entry expires.
 */
export class ReadThroughCache<V> {
  private readonly entries: TtlLruCache<V>;
  /** Key → sequence number of this instance's last write to it, kept for `guardMs`. */
  private readonly writes: TtlLruCache<number>;
  private seq = 0;
  private enabled = true;

  constructor(
    max: number,
    ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly guardMs = 30_000,
    jitter = 0,
  ) {
    this.entries = new TtlLruCache<V>(max, ttlMs, clock, jitter);
    this.writes = new TtlLruCache<number>(Math.max(1024, 4 * max), guardMs, clock);
  }

  get(key: string): V | undefined {
    return this.enabled ? this.entries.get(key) : undefined;
  }

  /**
   * Disabled, the cache holds nothing and serves nothing (write marks are still kept): for while
   * invalidations from other instances may be missed. Both switches drop every entry.
   */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.entries.clear();
  }

  ticket(): ReadTicket {
    return { seq: this.seq, at: this.clock() };
  }

  /** Fills from a read that started with `ticket`, unless a write of this instance overlapped it. */
  fill(key: string, value: V, ticket: ReadTicket): void {
    if (this.clock() - ticket.at >= this.guardMs) return;
    const lastWrite = this.writes.get(key);
    if (!this.enabled || (lastWrite !== undefined && lastWrite > ticket.seq)) return;
    this.entries.set(key, value);
  }

  /** Called when a write of this instance to the key ends (successfully or not). */
  invalidate(key: string): void {
    this.seq++;
    this.writes.set(key, this.seq);
    this.entries.delete(key);
  }

  /** Puts a value this instance has just written (the write itself is the newest state). */
  put(key: string, value: V): void {
    this.seq++;
    this.writes.set(key, this.seq);
    if (this.enabled) this.entries.set(key, value);
  }

  /**
   * After a write of this instance ends: caches the state it wrote, so that the reads that follow
   * (a Register's setup, its RPC drain) need no round trip. Only if no other write to the key
   * ended since `ticket` (taken before the write): not this instance's, nor another instance's,
   * whose invalidation message lands here as `invalidate`. Otherwise, or once the write marks
   * that would tell may have expired, it only invalidates.
   */
  putWritten(key: string, value: V, ticket: ReadTicket): void {
    const lastWrite = this.writes.get(key);
    if (this.clock() - ticket.at >= this.guardMs || (lastWrite !== undefined && lastWrite > ticket.seq))
      return this.invalidate(key);
    this.put(key, value);
  }

  /** Drops expired copies and write marks (see TtlLruCache.pruneExpired); an expired write mark guards nothing. */
  pruneExpired(maxScan: number): number {
    return this.entries.pruneExpired(maxScan) + this.writes.pruneExpired(maxScan);
  }
}

export interface ReadTicket {
  readonly seq: number;
  readonly at: number;
}
