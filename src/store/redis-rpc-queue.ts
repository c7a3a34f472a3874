/**
 * The RPC queue in Redis (rpc/rpc-queue.ts; design in docs/rpc-routing.md): per device a list
 * of request ids, their entries, the one in flight with its lease, and the ids already taken —
 * all in the device's slot, changed only by the scripts of rpc-scripts.ts. The sweep finds due
 * queues through rpcDueByShard: an endpoint's score is never later than its earliest deadline
 * or lease deadline (every write lowers it with ZADD LT), and sweepers lease members as the
 * registration expiry does (EXPIRY_LEASE), so any number of instances can sweep at once.
 */
import {
  DEDUP_WINDOW_MS,
  LEASE_MARGIN_MS,
  decodeQueued,
  encodeQueued,
  type LeaseOutcome,
  type PendingRpc,
  describeQueued,
  type QueuedRpc,
  type RpcQueue,
  type SweepOutcome,
} from '../rpc/rpc-queue';
import type { RedisKeys } from './keys';
import type { RedisIo } from './redis-io';
import { replyArray, replyNumber, replyString, replyStrings } from './reply';
import {
  RPC_COMPLETE,
  RPC_DUE_SETTLE,
  RPC_ENQUEUE,
  RPC_EXPIRE,
  RPC_LEASE,
  RPC_NEXT_DUE,
  RPC_RELEASE,
  RPC_TAKE_ALL,
} from './rpc-scripts';
import { EXPIRY_LEASE } from './scripts';

export interface RedisRpcQueueOptions {
  readonly io: RedisIo;
  readonly keys: RedisKeys;
  /** Due endpoints taken per shard and sweep. Default 500. */
  readonly sweepBatch?: number;
  /** How long a sweeper holds the endpoints it took. Default 30 s. */
  readonly sweepLeaseMs?: number;
  /** Entries that cannot be read (corrupt, or another version's) are dropped and reported here. */
  readonly onUnreadable?: (endpoint: string, text: string) => void;
}

export class RedisRpcQueue implements RpcQueue {
  private readonly io: RedisIo;
  private readonly keys: RedisKeys;

  constructor(private readonly opts: RedisRpcQueueOptions) {
    this.io = opts.io;
    this.keys = opts.keys;
  }

  async enqueue(entry: QueuedRpc, now: number): Promise<'queued' | 'duplicate'> {
    const ep = entry.req.endpoint;
    const k = this.keys;
    const reply = await this.io.script(
      'rpcQueue',
      RPC_ENQUEUE,
      [k.rpcQueueByEndpoint(ep), k.rpcEntriesByEndpoint(ep), k.rpcSeenByEndpoint(ep)],
      [entry.req.id, encodeQueued(entry), now, DEDUP_WINDOW_MS, entry.deadline],
    );
    if (replyNumber(reply, 'rpc enqueue') === 0) return 'duplicate';
    // After the entry: a sweep that removed the endpoint meanwhile re-checks it (RPC_DUE_SETTLE).
    await this.lowerDue(ep, entry.deadline);
    return 'queued';
  }

  async lease(
    endpoint: string,
    holder: string,
    now: number,
    maxExchangeMs: number,
    takeOverFrom = '',
  ): Promise<LeaseOutcome> {
    for (;;) {
      const reply = replyArray(
        await this.io.script('rpcQueue', RPC_LEASE, this.deviceKeys(endpoint), [
          holder,
          now,
          maxExchangeMs,
          LEASE_MARGIN_MS,
          takeOverFrom,
        ]),
        'rpc lease',
      );
      const state = replyNumber(reply[0], 'rpc lease');
      if (state === 0) return { kind: 'empty' };
      if (state === 1) return { kind: 'busy', holder: replyString(reply[1], 'rpc lease') };
      if (state === 3) continue;
      const text = replyString(reply[1], 'rpc lease');
      const entry = decodeQueued(text);
      if (entry === undefined) {
        // Unreadable (corrupt, or another version's): removed so the queue behind it moves on.
        this.opts.onUnreadable?.(endpoint, text);
        await this.complete(endpoint, replyString(reply[3], 'rpc lease'));
        continue;
      }
      await this.lowerDue(endpoint, replyNumber(reply[2], 'rpc lease'));
      return { kind: 'leased', entry };
    }
  }

  async complete(endpoint: string, id: string): Promise<boolean> {
    return (
      replyNumber(await this.io.script('rpcQueue', RPC_COMPLETE, this.deviceKeys(endpoint), [id]), 'rpc complete') === 1
    );
  }

  async release(endpoint: string, id: string): Promise<void> {
    await this.io.script('rpcQueue', RPC_RELEASE, this.deviceKeys(endpoint), [id]);
  }

  async takeAll(endpoint: string): Promise<QueuedRpc[]> {
    const texts = replyStrings(
      await this.io.script('rpcQueue', RPC_TAKE_ALL, this.deviceKeys(endpoint), []),
      'rpc take all',
    );
    return this.decodeAll(endpoint, texts);
  }

  async sweep(now: number): Promise<SweepOutcome> {
    const leaseScore = now + (this.opts.sweepLeaseMs ?? 30_000);
    const expired: QueuedRpc[] = [];
    const stalled: string[] = [];
    await Promise.all(
      this.keys.rpcDueShards().map(async (shard) => {
        const members = replyStrings(
          await this.io.script('rpcSweep', EXPIRY_LEASE, [shard], [now + 1, leaseScore, this.opts.sweepBatch ?? 500]),
          'rpc due lease',
        );
        if (members.length === 0) return;
        const settle: (string | number)[] = [leaseScore];
        await Promise.all(
          members.map(async (endpoint) => {
            const r = replyArray(
              await this.io.script('rpcSweep', RPC_EXPIRE, this.deviceKeys(endpoint), [now]),
              'rpc expire',
            );
            expired.push(...this.decodeAll(endpoint, replyStrings(r[0], 'rpc expire')));
            settle.push(endpoint, replyString(r[1], 'rpc expire'));
            if (replyNumber(r[2], 'rpc expire') === 1) stalled.push(endpoint);
          }),
        );
        const removed = replyStrings(
          await this.io.script('rpcSweep', RPC_DUE_SETTLE, [shard], settle),
          'rpc due settle',
        );
        // An enqueue between RPC_EXPIRE and the removal would be lost to the index: look again.
        await Promise.all(
          removed.map(async (endpoint) => {
            const next = replyString(
              await this.io.script('rpcSweep', RPC_NEXT_DUE, this.deviceKeys(endpoint), []),
              'rpc next due',
            );
            if (next !== '') await this.lowerDue(endpoint, Number(next));
          }),
        );
      }),
    );
    return { expired, stalled };
  }

  async pending(endpoint: string): Promise<PendingRpc[]> {
    const k = this.keys;
    const [ids, entries, flight] = await Promise.all([
      this.io.call('rpcQueue', (c) => c.lrange(k.rpcQueueByEndpoint(endpoint), 0, -1)),
      this.io.call('rpcQueue', (c) => c.hgetall(k.rpcEntriesByEndpoint(endpoint))),
      this.io.call('rpcQueue', (c) => c.hmget(k.rpcFlightByEndpoint(endpoint), 'id', 'by', 'until')),
    ]);
    const out: PendingRpc[] = [];
    const [fid, by, until] = flight;
    const inFlight = fid === null || fid === undefined ? undefined : entries[fid];
    const f = inFlight === undefined ? undefined : decodeQueued(inFlight);
    if (f !== undefined)
      out.push({
        ...describeQueued(f),
        running: true,
        ...(by ? { instance: by } : {}),
        ...(until ? { leaseUntil: Number(until) } : {}),
      });
    for (const id of ids) {
      const text = entries[id];
      const e = text === undefined ? undefined : decodeQueued(text);
      if (e !== undefined) out.push({ ...describeQueued(e), running: false });
    }
    return out;
  }

  private deviceKeys(endpoint: string): string[] {
    const k = this.keys;
    return [k.rpcQueueByEndpoint(endpoint), k.rpcEntriesByEndpoint(endpoint), k.rpcFlightByEndpoint(endpoint)];
  }

  private async lowerDue(endpoint: string, at: number): Promise<void> {
    await this.io.call('rpcQueue', (c) => c.zadd(this.keys.rpcDueOf(endpoint), 'LT', at, endpoint));
  }

  private decodeAll(endpoint: string, texts: readonly string[]): QueuedRpc[] {
    const out: QueuedRpc[] = [];
    for (const text of texts) {
      const e = decodeQueued(text);
      if (e === undefined) this.opts.onUnreadable?.(endpoint, text);
      else out.push(e);
    }
    return out;
  }
}
