/**
 * The per-device RPC queue (docs/rpc-routing.md): the one place a request lives between being
 * taken and being answered. In Redis (src/store/redis-rpc-queue.ts) it is shared by every
 * instance and survives restarts; in memory (./memory-rpc-queue.ts) it serves embedded mode.
 *
 * Exactly one final response per request id rests on two rules of every implementation:
 * - enqueue() refuses an id it has already taken for that endpoint (within the dedup window);
 * - complete() and takeAll() remove what they return, atomically: of all the instances that try
 *   to answer a request (the one that ran it, the expiry sweep, a de-registration), one succeeds.
 */
import type { RpcRequest } from './request';

export interface QueuedRpc {
  readonly req: RpcRequest;
  /** When the request must have been answered (ms since the epoch). */
  readonly deadline: number;
  /** When the bridge took it (the Kafka record's timestamp, or the HTTP call). */
  readonly takenAt: number;
  /** The instance waiting for the response in-process (an HTTP caller), if any. */
  readonly replyTo?: string;
}

export type LeaseOutcome =
  | { readonly kind: 'leased'; readonly entry: QueuedRpc }
  /** The head request is in flight on a live lease (this or another instance runs it): `holder`. */
  | { readonly kind: 'busy'; readonly holder: string }
  | { readonly kind: 'empty' };

export interface PendingRpc {
  readonly id: string;
  readonly method: string;
  readonly deadline: number;
  readonly takenAt: number;
  /** In flight: leased by this instance until `leaseUntil`. */
  readonly running: boolean;
  readonly instance?: string;
  readonly leaseUntil?: number;
}

export interface SweepOutcome {
  /** Requests whose deadline passed, taken out of their queues: each to be answered TIMEOUT. */
  readonly expired: QueuedRpc[];
  /** Endpoints whose in-flight lease passed (its holder died): the request is back at the head. */
  readonly stalled: string[];
}

export interface RpcQueue {
  /** Appends the request to its device's queue; 'duplicate' when its id was taken before. */
  enqueue(entry: QueuedRpc, now: number): Promise<'queued' | 'duplicate'>;
  /**
   * Takes the head of the device's queue into flight for `holder`, until leaseUntil() of it. A
   * lease that passed is taken over (the previous holder died mid-request: at least once towards
   * the device), and so is a live one held by `takeOverFrom` (an instance known to be gone).
   */
  lease(
    endpoint: string,
    holder: string,
    now: number,
    maxExchangeMs: number,
    takeOverFrom?: string,
  ): Promise<LeaseOutcome>;
  /** Removes the request (queued or in flight): true for exactly one caller, who answers it. */
  complete(endpoint: string, id: string): Promise<boolean>;
  /** Puts an in-flight request back at the head (the device fell asleep before answering). */
  release(endpoint: string, id: string): Promise<void>;
  /** Removes and returns every request of the device, queued and in flight (its registration ended). */
  takeAll(endpoint: string): Promise<QueuedRpc[]>;
  /** Takes requests whose deadline passed, and finds leases that passed; any number of instances may sweep. */
  sweep(now: number): Promise<SweepOutcome>;
  /** The device's requests in order, the in-flight one first. */
  pending(endpoint: string): Promise<PendingRpc[]>;
}

/** How long a request is in flight at most before another instance may take it over (mirrored by the Redis script). */
export function leaseUntil(entry: QueuedRpc, now: number, maxExchangeMs: number): number {
  return Math.min(entry.deadline, now + maxExchangeMs) + LEASE_MARGIN_MS;
}

/** Time for the response to be written after the exchange's own deadline. */
export const LEASE_MARGIN_MS = 2_000;

/** How long a request id is remembered to refuse a repeat (a rebalance redelivers within minutes). */
export const DEDUP_WINDOW_MS = 24 * 3_600_000;

export function encodeQueued(entry: QueuedRpc): string {
  return JSON.stringify(entry);
}

/** The stored entry; undefined when unreadable (written by an incompatible version, or corrupt). */
export function decodeQueued(text: string): QueuedRpc | undefined {
  try {
    const v = JSON.parse(text) as Partial<QueuedRpc>;
    if (typeof v !== 'object' || v === null || typeof v.deadline !== 'number' || typeof v.takenAt !== 'number')
      return undefined;
    const req = v.req;
    if (
      typeof req !== 'object' ||
      req === null ||
      typeof req.id !== 'string' ||
      typeof req.endpoint !== 'string' ||
      typeof req.method !== 'string'
    )
      return undefined;
    return v as QueuedRpc;
  } catch {
    return undefined;
  }
}

/** What the HTTP API shows of a held request. */
export function describeQueued(e: QueuedRpc): { id: string; method: string; deadline: number; takenAt: number } {
  return { id: e.req.id, method: e.req.method, deadline: e.deadline, takenAt: e.takenAt };
}
