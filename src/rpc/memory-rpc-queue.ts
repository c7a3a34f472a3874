/**
 * The RPC queue of embedded mode (one process, nothing shared): the same rules as the Redis one
 * (./rpc-queue.ts), held in maps. Lost on restart, which embedded mode accepts.
 */
import { TtlLruCache } from '../common/lru-cache';
import {
  DEDUP_WINDOW_MS,
  leaseUntil,
  type LeaseOutcome,
  type PendingRpc,
  describeQueued,
  type QueuedRpc,
  type RpcQueue,
  type SweepOutcome,
} from './rpc-queue';

interface Flight {
  readonly entry: QueuedRpc;
  readonly holder: string;
  readonly until: number;
}

interface DeviceQueue {
  readonly queued: QueuedRpc[];
  flight: Flight | undefined;
}

export class MemoryRpcQueue implements RpcQueue {
  private readonly devices = new Map<string, DeviceQueue>();
  private readonly seen: TtlLruCache<true>;

  constructor(maxSeenIds = 100_000, clock: () => number = Date.now) {
    this.seen = new TtlLruCache(maxSeenIds, DEDUP_WINDOW_MS, clock);
  }

  async enqueue(entry: QueuedRpc, _now?: number): Promise<'queued' | 'duplicate'> {
    const key = seenKey(entry.req.endpoint, entry.req.id);
    if (this.seen.get(key) !== undefined) return 'duplicate';
    this.seen.set(key, true);
    this.device(entry.req.endpoint).queued.push(entry);
    return 'queued';
  }

  async lease(
    endpoint: string,
    holder: string,
    now: number,
    maxExchangeMs: number,
    takeOverFrom?: string,
  ): Promise<LeaseOutcome> {
    const d = this.devices.get(endpoint);
    if (d === undefined) return { kind: 'empty' };
    if (d.flight !== undefined) {
      if (d.flight.until > now && d.flight.holder !== takeOverFrom) return { kind: 'busy', holder: d.flight.holder };
      const entry = d.flight.entry;
      d.flight = { entry, holder, until: leaseUntil(entry, now, maxExchangeMs) };
      return { kind: 'leased', entry };
    }
    const entry = d.queued.shift();
    if (entry === undefined) {
      this.devices.delete(endpoint);
      return { kind: 'empty' };
    }
    d.flight = { entry, holder, until: leaseUntil(entry, now, maxExchangeMs) };
    return { kind: 'leased', entry };
  }

  async complete(endpoint: string, id: string): Promise<boolean> {
    const d = this.devices.get(endpoint);
    if (d === undefined) return false;
    let found = false;
    if (d.flight?.entry.req.id === id) {
      d.flight = undefined;
      found = true;
    } else {
      const i = d.queued.findIndex((e) => e.req.id === id);
      if (i >= 0) {
        d.queued.splice(i, 1);
        found = true;
      }
    }
    this.forgetIfEmpty(endpoint, d);
    return found;
  }

  async release(endpoint: string, id: string): Promise<void> {
    const d = this.devices.get(endpoint);
    if (d?.flight?.entry.req.id !== id) return;
    d.queued.unshift(d.flight.entry);
    d.flight = undefined;
  }

  async takeAll(endpoint: string): Promise<QueuedRpc[]> {
    const d = this.devices.get(endpoint);
    if (d === undefined) return [];
    this.devices.delete(endpoint);
    return d.flight !== undefined ? [d.flight.entry, ...d.queued] : [...d.queued];
  }

  async sweep(now: number): Promise<SweepOutcome> {
    const expired: QueuedRpc[] = [];
    const stalled: string[] = [];
    for (const [endpoint, d] of this.devices) {
      if (d.flight !== undefined && d.flight.until <= now) {
        // Its holder is gone (in one process: it never answered). Due: TIMEOUT; else back to the head.
        if (d.flight.entry.deadline <= now) expired.push(d.flight.entry);
        else {
          d.queued.unshift(d.flight.entry);
          stalled.push(endpoint);
        }
        d.flight = undefined;
      }
      for (let i = 0; i < d.queued.length;) {
        const e = d.queued[i] as QueuedRpc;
        if (e.deadline <= now) {
          expired.push(e);
          d.queued.splice(i, 1);
        } else i++;
      }
      this.forgetIfEmpty(endpoint, d);
    }
    return { expired, stalled };
  }

  async pending(endpoint: string): Promise<PendingRpc[]> {
    const d = this.devices.get(endpoint);
    if (d === undefined) return [];
    const out: PendingRpc[] = [];
    if (d.flight !== undefined)
      out.push({
        ...describeQueued(d.flight.entry),
        running: true,
        instance: d.flight.holder,
        leaseUntil: d.flight.until,
      });
    for (const e of d.queued) out.push({ ...describeQueued(e), running: false });
    return out;
  }

  private device(endpoint: string): DeviceQueue {
    let d = this.devices.get(endpoint);
    if (d === undefined) this.devices.set(endpoint, (d = { queued: [], flight: undefined }));
    return d;
  }

  private forgetIfEmpty(endpoint: string, d: DeviceQueue): void {
    if (d.flight === undefined && d.queued.length === 0) this.devices.delete(endpoint);
  }
}

function seenKey(endpoint: string, id: string): string {
  return `${endpoint}\u0000${id}`;
}
