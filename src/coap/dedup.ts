/**
 * Message deduplication (RFC 7252 §4.5) with bounded memory.
 *
 * Each peer keeps a small ring of its most recent Message IDs, each with the reply we sent
 * (to be re-sent for a duplicate CON). A peer that respects NSTART = 1 (§4.7) has at most one
 * CON outstanding, so duplicates always concern its latest few messages; the ring covers them.
 * Entries older than EXCHANGE_LIFETIME are ignored, idle peers are swept, and the number of
 * peers is capped (least recently seen first). Memory is therefore O(active peers × RING) whatever the rate.
 */
const RING = 8;
/** A peer is moved to the most-recently-seen end of the map at most this often (see checkAndRecord). */
const REORDER_RESOLUTION_MS = 1000;

/** An empty ACK or RST (4 bytes, §3): kept as its type and rebuilt for a duplicate, not held as bytes. */
export type EmptyReply = 'ack' | 'rst';

export interface DedupEntry {
  /** Reply to re-send on a duplicate: the encoded piggybacked response, or an empty ACK / RST; once known. */
  reply: Buffer | EmptyReply | undefined;
}

class PeerRing {
  readonly mids = new Int32Array(RING).fill(-1);
  readonly times = new Float64Array(RING);
  readonly entries: (DedupEntry | undefined)[] = new Array<DedupEntry | undefined>(RING);
  next = 0;
  lastSeen = 0;
  /** When the peer was last moved to the most-recently-seen end of the map. */
  reorderedAt = 0;
}

export class Deduplicator {
  private readonly peers = new Map<string, PeerRing>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly maxPeers: number,
  ) {}

  /** Returns the entry when (peer, mid) was seen within EXCHANGE_LIFETIME, else records it and returns undefined. */
  checkAndRecord(peer: string, mid: number, now: number): DedupEntry | { fresh: DedupEntry } {
    let ring = this.peers.get(peer);
    const known = ring !== undefined;
    if (ring === undefined) {
      if (this.peers.size >= this.maxPeers) this.evictOldest();
      ring = new PeerRing();
      this.peers.set(peer, ring);
    } else {
      const cutoff = now - this.lifetimeMs;
      for (let i = 0; i < RING; i++) {
        if (ring.mids[i] === mid && (ring.times[i] as number) >= cutoff) return ring.entries[i] as DedupEntry;
      }
    }
    const slot = ring.next;
    ring.next = (slot + 1) % RING;
    ring.mids[slot] = mid;
    ring.times[slot] = now;
    const entry: DedupEntry = { reply: undefined };
    ring.entries[slot] = entry;
    ring.lastSeen = now;
    // Keep the Map in least-recently-seen order (to a second), so that the peer cap evicts the
    // idlest peer, not the first one ever seen (which may be the busiest).
    if (known && now - ring.reorderedAt >= REORDER_RESOLUTION_MS) {
      this.peers.delete(peer);
      this.peers.set(peer, ring);
    }
    if (!known || now - ring.reorderedAt >= REORDER_RESOLUTION_MS) ring.reorderedAt = now;
    return { fresh: entry };
  }

  /** Drops peers idle for longer than EXCHANGE_LIFETIME. */
  sweep(now: number): void {
    const cutoff = now - this.lifetimeMs;
    for (const [key, ring] of this.peers) if (ring.lastSeen < cutoff) this.peers.delete(key);
  }

  get size(): number {
    return this.peers.size;
  }

  private evictOldest(): void {
    const first = this.peers.keys().next();
    if (!first.done) this.peers.delete(first.value);
  }
}
