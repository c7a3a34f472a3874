/**
 * Takes RPC requests (from Kafka or the HTTP API), holds them per device in order, runs them one
 * at a time per device (NSTART = 1, RFC 7252 §4.7) and publishes exactly one final response per
 * request id, plus progress events (rpc-queued, rpc-sent, rpc-delivered).
 *
 * - Deadline: `expiresAt`, or `timeoutMs` (default RPC_DEFAULT_TIMEOUT_MS) from when the request
 *   was taken, whichever is first. The CoAP exchange gets what is left of it; a request still
 *   held at its deadline is answered TIMEOUT by the sweep.
 * - Queue mode (LwM2M-Core 1.2 §6.5): a device registered with Q is reachable only for a window
 *   (`awakeMs`) after each of its uplinks (Register, Update, notification, Send); requests wait
 *   until then. One that goes unanswered marks the device asleep and waits for the next uplink.
 *   A device not in queue mode that does not answer gets TIMEOUT and an `unreachable` event.
 * - De-registration and expiry answer every held request NOT_REGISTERED.
 * - A request id already taken is not run again (the first one answers).
 *
 * State here is this process's: one instance serves the device (docs/rpc-routing.md describes
 * the queue in Redis that lets any instance take a request for a device another one reaches).
 */
import type { EventType } from '../bus/contract/event-records';
import type { RpcResponseRecord } from '../bus/contract/rpc-records';
import type { BusRecord } from '../bus/types';
import type { ServerEvent, ServerEvents } from '../server/events';
import type { Registration } from '../server/registration/registration';
import { TtlLruCache } from '../store/redis/lru-cache';
import { rpcResponse, type RpcExecutor } from './executor';
import type { RpcRejection, RpcRequest } from './request';

export interface RpcServiceOptions {
  readonly executor: Pick<RpcExecutor, 'execute'>;
  /** The registration of an endpoint, or undefined when it is not registered. */
  readonly registration: (endpoint: string) => Promise<Registration | undefined>;
  readonly publish: (records: BusRecord[]) => Promise<void>;
  readonly topics: { readonly responses: string; readonly events: string };
  readonly events: ServerEvents;
  readonly defaultTimeoutMs: number;
  /** How long a queue-mode device stays reachable after an uplink. */
  readonly awakeMs: number;
  /** Queue-mode devices whose awake window is tracked at most (the oldest are forgotten: asleep). */
  readonly maxAwake?: number;
  /** Request ids remembered to refuse repeats. */
  readonly maxSeenIds?: number;
  readonly sweepMs?: number;
  readonly now?: () => number;
  readonly onError?: (err: unknown, context: string) => void;
}

interface Held {
  readonly req: RpcRequest;
  readonly deadline: number;
  readonly done: (r: RpcResponseRecord) => void;
  readonly result: Promise<RpcResponseRecord>;
}

interface DeviceQueue {
  readonly held: Held[];
  running: boolean;
}

export type SubmitOutcome = { readonly duplicate: false; readonly response: Promise<RpcResponseRecord> } | { readonly duplicate: true; readonly response?: Promise<RpcResponseRecord> };

export class RpcService {
  private readonly queues = new Map<string, DeviceQueue>();
  private readonly seen: TtlLruCache<Promise<RpcResponseRecord>>;
  /** Queue-mode devices seen within their awake window: endpoint → until. */
  private readonly awakeUntil: TtlLruCache<number>;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(private readonly opts: RpcServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.seen = new TtlLruCache(opts.maxSeenIds ?? 100_000, 24 * 3_600_000, this.now);
    this.awakeUntil = new TtlLruCache(opts.maxAwake ?? 1_000_000, opts.awakeMs, this.now);
    this.sweeper = setInterval(() => this.sweep(), opts.sweepMs ?? 1000);
    this.sweeper.unref();
    this.unsubscribe = opts.events.on((e) => this.onServerEvent(e));
  }

  /**
   * Takes a request; the response resolves once it is final (and published). `takenAt` (default
   * now) is where `timeoutMs` counts from: a Kafka record's timestamp, so a stale record times out.
   */
  submit(req: RpcRequest, takenAt?: number): SubmitOutcome {
    const earlier = this.seen.get(req.id);
    if (earlier !== undefined) return { duplicate: true, response: earlier };
    const now = this.now();
    const from = Math.min(takenAt ?? now, now);
    const deadline = Math.min(req.expiresAt ?? Number.POSITIVE_INFINITY, from + (req.timeoutMs ?? this.opts.defaultTimeoutMs));
    let done: (r: RpcResponseRecord) => void = () => undefined;
    const result = new Promise<RpcResponseRecord>((resolve) => (done = resolve));
    const held: Held = { req, deadline, done, result };
    this.seen.set(req.id, result);
    if (deadline <= now) {
      this.finish(held, { result: 'TIMEOUT', error: 'the request expired before the bridge took it' });
      return { duplicate: false, response: result };
    }
    this.queue(req.endpoint).held.push(held);
    this.event(req, 'rpc-queued');
    this.pump(req.endpoint);
    return { duplicate: false, response: result };
  }

  /** Answers a record that failed validation: BAD_REQUEST naming the field. */
  async reject(r: RpcRejection): Promise<void> {
    const res = rpcResponse({ id: r.id ?? '', endpoint: r.endpoint ?? '', method: r.method ?? '' }, { result: 'BAD_REQUEST', error: r.error }, this.now());
    await this.opts.publish([{ topic: this.opts.topics.responses, key: res.endpoint, value: res }]);
  }

  /** Requests held for an endpoint, in order (for the HTTP API). */
  pending(endpoint: string): { id: string; method: string; deadline: number; running: boolean }[] {
    const q = this.queues.get(endpoint);
    if (q === undefined) return [];
    return q.held.map((h, i) => ({ id: h.req.id, method: h.req.method, deadline: h.deadline, running: q.running && i === 0 }));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    this.unsubscribe();
  }

  private queue(endpoint: string): DeviceQueue {
    let q = this.queues.get(endpoint);
    if (q === undefined) this.queues.set(endpoint, (q = { held: [], running: false }));
    return q;
  }

  private pump(endpoint: string): void {
    const q = this.queues.get(endpoint);
    if (q === undefined || q.running || this.stopped) return;
    const head = q.held[0];
    if (head === undefined) {
      this.queues.delete(endpoint);
      return;
    }
    q.running = true;
    this.runHead(endpoint, q, head)
      .catch((err: unknown) => {
        this.opts.onError?.(err, `rpc ${head.req.id}`);
        return false;
      })
      .then((progressed) => {
        q.running = false;
        // A sleeping device's queue waits for its next uplink (awake() pumps it again).
        if (progressed) this.pump(endpoint);
      });
  }

  /** Runs the head request; false when the device sleeps and the request stays held. */
  private async runHead(endpoint: string, q: DeviceQueue, head: Held): Promise<boolean> {
    const reg = await this.opts.registration(endpoint);
    if (reg === undefined) {
      this.endAll(endpoint, `${endpoint} is not registered`);
      return true;
    }
    const now = this.now();
    if (q.held[0] !== head) return true; // answered meanwhile (deadline, de-registration)
    if (reg.queueMode && (this.awakeUntil.get(endpoint) ?? 0) < now) return false;
    q.held.shift();
    this.event(head.req, 'rpc-sent');
    const res = await this.opts.executor.execute(head.req, Math.max(1, head.deadline - now));
    if (res.result === 'TIMEOUT') {
      this.event(head.req, 'unreachable');
      if (reg.queueMode && this.now() < head.deadline) {
        // Asleep again (LwM2M-Core 1.2 §6.5): keep the request, first in line, for the next wake-up.
        this.awakeUntil.delete(endpoint);
        q.held.unshift(head);
        return false;
      }
    } else if (res.result !== 'NOT_REGISTERED') {
      this.event(head.req, 'rpc-delivered', res.result);
    }
    await this.publishResponse(head, res);
    return true;
  }

  private finish(h: Held, body: { result: string; error: string }): void {
    void this.publishResponse(h, rpcResponse(h.req, body, this.now()));
  }

  private async publishResponse(h: Held, res: RpcResponseRecord): Promise<void> {
    h.done(res);
    try {
      await this.opts.publish([{ topic: this.opts.topics.responses, key: res.endpoint, value: res }]);
    } catch (err) {
      this.opts.onError?.(err, `rpc response ${res.id}`);
    }
  }

  private endAll(endpoint: string, why: string): void {
    const q = this.queues.get(endpoint);
    if (q === undefined) return;
    for (const h of q.held.splice(0)) this.finish(h, { result: 'NOT_REGISTERED', error: why });
  }

  private sweep(): void {
    const now = this.now();
    for (const [endpoint, q] of this.queues) {
      for (let i = 0; i < q.held.length; ) {
        const h = q.held[i] as Held;
        if (h.deadline > now) i++;
        else {
          q.held.splice(i, 1);
          this.finish(h, { result: 'TIMEOUT', error: 'the device did not wake up (or answer) before the request\'s deadline' });
        }
      }
      if (q.held.length === 0 && !q.running) this.queues.delete(endpoint);
    }
  }

  private onServerEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'registered':
      case 'notification':
      case 'send':
        return this.awake(e.registration);
      case 'updated':
        return this.awake(e.after);
      case 'deregistered':
      case 'expired':
        return this.endAll(e.registration.endpoint, `the registration ended (${e.type}) before the request ran`);
      default:
        return;
    }
  }

  private awake(reg: Registration): void {
    if (!reg.queueMode) return;
    this.awakeUntil.set(reg.endpoint, this.now() + this.opts.awakeMs);
    this.pump(reg.endpoint);
  }

  private event(req: RpcRequest, type: EventType, result?: string): void {
    const value = { endpoint: req.endpoint, ts: this.now(), type, detail: { rpcId: req.id, method: req.method, ...(result !== undefined ? { result } : {}) } };
    this.opts.publish([{ topic: this.opts.topics.events, key: req.endpoint, value }]).catch((err: unknown) => this.opts.onError?.(err, `rpc event ${type}`));
  }
}
