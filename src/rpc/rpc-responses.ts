/**
 * The output side of the RPC service: each claimed request's one final response, published on
 * the responses topic however long Kafka is away (DESIGN invariant 3: retried with backoff until
 * the bus takes it or the instance stops) and handed to an HTTP caller waiting for it, here or on
 * the instance it came through; and the progress events (rpc-queued, rpc-sent, rpc-delivered,
 * unreachable) on the events topic. Design: docs/rpc-routing.md.
 */
import type { BusRecord } from '../bus/types';
import type { EventType } from '../contract/event-records';
import type { RpcResponseRecord } from '../contract/rpc-records';
import type { RpcRequest } from './request';
import type { RpcPeers } from './rpc-peers';
import type { QueuedRpc } from './rpc-queue';

/** How long a claimed response is retried while the bus refuses it (Kafka away). */
const RESPONSE_RETRY_MS = 15 * 60_000;
/** The longest pause between two attempts. */
const RESPONSE_RETRY_MAX_PAUSE_MS = 10_000;

export interface RpcResponsesOptions {
  readonly peers: Pick<RpcPeers, 'self' | 'send'>;
  readonly publish: (records: BusRecord[]) => Promise<void>;
  readonly topics: { readonly responses: string; readonly events: string };
  readonly now: () => number;
  /** True once the service stops: a response the bus refuses is then given up at once. */
  readonly stopped: () => boolean;
  /** First delay between attempts to publish a refused response (doubling); default 500 ms. */
  readonly retryMs?: number;
  readonly onResponse?: (res: RpcResponseRecord, latencyMs: number) => void;
  readonly onError?: (err: unknown, context: string) => void;
}

export class RpcResponses {
  /** HTTP callers of this instance waiting for a response, by request id. */
  private readonly waiters = new Map<string, (r: RpcResponseRecord) => void>();

  constructor(private readonly opts: RpcResponsesOptions) {}

  /** A promise of the response to request `id`, for an in-process caller (the HTTP API). */
  waitFor(id: string): Promise<RpcResponseRecord> {
    return new Promise<RpcResponseRecord>((resolve) => this.waiters.set(id, resolve));
  }

  /** The caller's request was not queued after all (duplicate, or the queue failed). */
  forget(id: string): void {
    this.waiters.delete(id);
  }

  /** A response that came back from the instance that ran the request. */
  resolve(res: RpcResponseRecord): void {
    const waiter = this.waiters.get(res.id);
    this.waiters.delete(res.id);
    waiter?.(res);
  }

  /** Publishes a claimed request's response, and hands it to the HTTP caller waiting for it. */
  async deliver(entry: QueuedRpc, res: RpcResponseRecord): Promise<void> {
    const { opts } = this;
    opts.onResponse?.(res, Math.max(0, opts.now() - entry.takenAt));
    if (entry.replyTo === opts.peers.self) this.resolve(res);
    else if (entry.replyTo !== undefined) {
      opts.peers
        .send(entry.replyTo, { kind: 'response', response: res })
        .catch((err: unknown) => opts.onError?.(err, `rpc reply ${res.id}`));
    }
    const started = opts.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await opts.publish([{ topic: opts.topics.responses, key: res.endpoint, value: res }]);
        return;
      } catch (err) {
        const stopped = opts.stopped();
        if (stopped || opts.now() - started > RESPONSE_RETRY_MS) {
          opts.onError?.(
            err,
            `rpc response ${res.id} not published${stopped ? ' (shutting down)' : ` after ${attempt + 1} attempts`}`,
          );
          return;
        }
        const pause = Math.min(RESPONSE_RETRY_MAX_PAUSE_MS, (opts.retryMs ?? 500) * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /** The response to a record that was never taken (BAD_REQUEST...): published once, not retried. */
  async publishUntaken(res: RpcResponseRecord): Promise<void> {
    await this.opts.publish([{ topic: this.opts.topics.responses, key: res.endpoint, value: res }]);
    this.opts.onResponse?.(res, 0);
  }

  /** Publishes a progress event; resolves once the bus took it (or refused it: reported, never thrown). */
  event(req: RpcRequest, type: EventType, result?: string): Promise<void> {
    const value = {
      endpoint: req.endpoint,
      ts: this.opts.now(),
      type,
      detail: { rpcId: req.id, method: req.method, ...(result !== undefined ? { result } : {}) },
    };
    return this.opts
      .publish([{ topic: this.opts.topics.events, key: req.endpoint, value }])
      .catch((err: unknown) => this.opts.onError?.(err, `rpc event ${type}`));
  }
}
