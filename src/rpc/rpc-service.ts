/**
 * Takes RPC requests (from Kafka or the HTTP API), queues them per device in the shared queue
 * (./rpc-queue.ts), hands each device's queue to the instance that reaches the device
 * (./rpc-peers.ts), runs them there in order, one at a time per device (NSTART = 1, RFC 7252
 * §4.7), and publishes exactly one final response per request id, plus progress events
 * (rpc-queued, rpc-sent, rpc-delivered, unreachable). Design: docs/rpc-routing.md.
 *
 * - Routing: the owner of a device is the instance that last saw it (Register, Update, or the
 *   first uplink it got after another instance had it). A request taken elsewhere is announced
 *   to the owner; when the owner is gone, the taking instance runs it from its own socket to
 *   the address in the registration.
 * - Deadline: `expiresAt`, or `timeoutMs` (default RPC_DEFAULT_TIMEOUT_MS) from when the request
 *   was taken, whichever is first. The CoAP exchange gets what is left of it (at most
 *   MAX_EXCHANGE_MS); a request still queued at its deadline is answered TIMEOUT by the sweep.
 * - Queue mode (LwM2M-Core 1.2 §6.5): a device registered with Q is reachable only for a window
 *   (`awakeMs`) after each of its uplinks (Register, Update, notification, Send); requests wait
 *   until then. One that goes unanswered marks the device asleep and waits for the next uplink.
 *   A device not in queue mode that does not answer gets TIMEOUT and an `unreachable` event.
 * - De-registration and expiry answer every queued request NOT_REGISTERED.
 */
import type { RpcResponseRecord } from '../contract/rpc-records';
import type { BusRecord } from '../bus/types';
import type { ServerEvent, ServerEvents } from '../server/events';
import type { Registration } from '../server/registration/registration';
import { TtlLruCache } from '../common/lru-cache';
import { rpcResponse, type RpcExecutor } from './executor';
import type { RpcRejection, RpcRequest } from './request';
import type { PeerMessage, RpcPeers } from './rpc-peers';
import type { PendingRpc, QueuedRpc, RpcQueue } from './rpc-queue';
import { RpcResponses } from './rpc-responses';

/** Longest a request runs on the device: bounds the lease, after which another instance may take it over. */
export const MAX_EXCHANGE_MS = 120_000;
/** How long an instance that a hand-off did not reach counts as gone (longer than its heartbeat's expiry). */
const UNREACHABLE_MS = 30_000;
/** An instance re-records itself as a device's owner at most this often while it keeps seeing it. */
const OWNER_REFRESH_MS = 300_000;

/** The instance that last saw a device, and when. */
export interface Owner {
  readonly instance: string;
  readonly at: number;
}

export interface RpcServiceOptions {
  readonly executor: Pick<RpcExecutor, 'execute'>;
  /** The registration of an endpoint, or undefined when it is not registered. */
  readonly registration: (endpoint: string) => Promise<Registration | undefined>;
  readonly queue: RpcQueue;
  readonly peers: RpcPeers;
  /** The instance that last saw the device, and when; undefined when unknown. */
  readonly owner: (endpoint: string) => Promise<Owner | undefined>;
  /** Records this instance as the one that sees the device now. */
  readonly markSeen: (endpoint: string, now: number) => Promise<void>;
  /** Subscribes to writes of another instance to a device's registration: it may own the device now. */
  readonly onForeignWrite?: (listener: (endpoint: string) => void) => void;
  readonly publish: (records: BusRecord[]) => Promise<void>;
  readonly topics: { readonly responses: string; readonly events: string };
  readonly events: ServerEvents;
  readonly defaultTimeoutMs: number;
  /** How long a queue-mode device stays reachable after an uplink. */
  readonly awakeMs: number;
  /** Devices whose awake window or ownership is tracked at most (the oldest are forgotten). */
  readonly maxTracked?: number;
  readonly sweepMs?: number;
  readonly now?: () => number;
  readonly onError?: (err: unknown, context: string) => void;
  /** First delay between attempts to publish a response the bus refused (doubling, at most 10 s); default 500 ms. */
  readonly responseRetryMs?: number;
  /** Every final response, with the time from taking the request to answering it. */
  readonly onResponse?: (res: RpcResponseRecord, latencyMs: number) => void;
}

/** Taken: its deadline (ms), and with `wait` the response to come. */
export type SubmitOutcome =
  | { readonly duplicate: false; readonly deadline: number; readonly response?: Promise<RpcResponseRecord> }
  | { readonly duplicate: true };

export interface SubmitOptions {
  /** Where `timeoutMs` counts from (default now): a Kafka record's timestamp, so a stale record times out. */
  readonly takenAt?: number;
  /** The caller waits in-process for the response (HTTP API). */
  readonly wait?: boolean;
  /** A new attempt after the queue was unreachable: rpc-queued went out with the first. */
  readonly retry?: boolean;
}

export class RpcService {
  private readonly responses: RpcResponses;
  /** Endpoints with a drain loop running here, and those asked to drain again meanwhile. */
  private readonly draining = new Set<string>();
  private readonly again = new Set<string>();
  /** Queue-mode devices seen within their awake window: endpoint → until. */
  private readonly awakeUntil: TtlLruCache<number>;
  /** Instances that heard no hand-off lately although their heartbeat was still there (just died). */
  private readonly unreachable: TtlLruCache<true>;
  /** Devices this instance recorded itself as the owner of, recently. */
  private readonly owned: TtlLruCache<true>;
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private sweeping = false;
  private stopped = false;
  /** Drain loops running here: shutdown waits for them to hand their requests back. */
  private readonly running = new Set<Promise<void>>();
  private announceStop: () => void = () => undefined;
  /** Settles when stop() is called: HTTP callers still waiting are told their request stays queued. */
  readonly stoppedSignal: Promise<void> = new Promise<void>((resolve) => (this.announceStop = resolve));

  constructor(private readonly opts: RpcServiceOptions) {
    this.now = opts.now ?? Date.now;
    this.responses = new RpcResponses({
      peers: opts.peers,
      publish: opts.publish,
      topics: opts.topics,
      now: this.now,
      stopped: () => this.stopped,
      ...(opts.responseRetryMs !== undefined ? { retryMs: opts.responseRetryMs } : {}),
      ...(opts.onResponse !== undefined ? { onResponse: opts.onResponse } : {}),
      ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
    });
    this.awakeUntil = new TtlLruCache(opts.maxTracked ?? 1_000_000, opts.awakeMs, this.now);
    this.owned = new TtlLruCache(opts.maxTracked ?? 1_000_000, OWNER_REFRESH_MS, this.now);
    this.unreachable = new TtlLruCache(1000, UNREACHABLE_MS, this.now);
    this.sweeper = setInterval(() => void this.sweep(), opts.sweepMs ?? 1000);
    this.sweeper.unref();
    this.unsubscribe = opts.events.on((e) => this.onServerEvent(e));
    opts.peers.onMessage((m) => this.onPeerMessage(m));
    // This instance saw the device lately, but another one saw it since: the next uplink here records it again.
    opts.onForeignWrite?.((endpoint) => this.owned.delete(endpoint));
  }

  /**
   * Queues a request (durably, with the Redis queue) and returns once it is queued: a Kafka
   * offset may be committed then. Throws when the queue is unavailable (nothing was taken).
   */
  async submit(req: RpcRequest, o: SubmitOptions = {}): Promise<SubmitOutcome> {
    const now = this.now();
    const takenAt = Math.min(o.takenAt ?? now, now);
    const deadline = Math.min(
      req.expiresAt ?? Number.POSITIVE_INFINITY,
      takenAt + (req.timeoutMs ?? this.opts.defaultTimeoutMs),
    );
    const entry: QueuedRpc = { req, deadline, takenAt, ...(o.wait === true ? { replyTo: this.opts.peers.self } : {}) };
    const response = o.wait === true ? this.responses.waitFor(req.id) : undefined;
    const live = deadline > now;
    // rpc-queued goes out before the request enters the queue. When another instance reaches the
    // device it may run the request (and publish rpc-sent with its own producer) as soon as it is
    // queued, and two producers keep no order between them: the event is then awaited. Here, one
    // producer keeps its order. (A record redelivered as a duplicate may so repeat rpc-queued; it
    // never runs twice. A retry after the queue was unreachable does not repeat it.)
    const queued = live && o.retry !== true ? this.responses.event(req, 'rpc-queued') : undefined;
    const owner = live ? await this.ownerOf(req.endpoint) : undefined;
    if (owner !== undefined && owner.instance !== this.opts.peers.self) await queued;
    let outcome: 'queued' | 'duplicate';
    try {
      outcome = await this.opts.queue.enqueue(entry, now);
    } catch (err) {
      if (o.wait === true) this.responses.forget(req.id);
      throw err;
    }
    if (outcome === 'duplicate') {
      if (o.wait === true) this.responses.forget(req.id);
      return { duplicate: true };
    }
    if (!live) await this.settle(entry, { result: 'TIMEOUT', error: 'the request expired before the bridge took it' });
    else void this.route(req.endpoint, owner);
    return response !== undefined ? { duplicate: false, deadline, response } : { duplicate: false, deadline };
  }

  /** Answers a record that was not taken: BAD_REQUEST naming the field, or why it could not be queued. */
  async reject(r: RpcRejection, result: 'BAD_REQUEST' | 'INTERNAL_SERVER_ERROR' = 'BAD_REQUEST'): Promise<void> {
    const res = rpcResponse(
      { id: r.id ?? '', endpoint: r.endpoint ?? '', method: r.method ?? '' },
      { result, error: r.error },
      this.now(),
    );
    await this.responses.publishUntaken(res);
  }

  /** Requests held for an endpoint, in order (for the HTTP API). */
  pending(endpoint: string): Promise<PendingRpc[]> {
    return this.opts.queue.pending(endpoint);
  }

  /**
   * Stops taking work. A request whose exchange is cut short by the shutdown (the CoAP endpoint
   * closing) is released back to the head of its queue for another instance; one whose release
   * cannot be written comes back when its lease passes. idle() resolves once the loops ended.
   */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    this.unsubscribe();
    this.announceStop();
  }

  /** Resolves when no drain loop runs here any more (after stop(): every request handed back). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Drain loops running here (what a shutdown may leave unfinished). */
  get inFlight(): number {
    return this.running.size;
  }

  /** The owner of a device, or undefined when unknown or unreadable (the request then runs here). */
  private async ownerOf(endpoint: string): Promise<Owner | undefined> {
    try {
      return await this.opts.owner(endpoint);
    } catch (err) {
      this.opts.onError?.(err, `rpc owner ${endpoint}`);
      return undefined;
    }
  }

  /**
   * Hands the device's queue to the instance that reaches the device, or drains it here.
   * `known`: the owner, when the caller just read it.
   */
  private async route(endpoint: string, known?: Owner): Promise<void> {
    try {
      const owner = known ?? (await this.opts.owner(endpoint));
      const peers = this.opts.peers;
      if (owner !== undefined && owner.instance !== peers.self && (await peers.alive(owner.instance))) {
        if (await peers.send(owner.instance, { kind: 'drain', endpoint })) return;
        // Its heartbeat has not expired yet, but nobody listens on its channel: it just died.
        this.unreachable.set(owner.instance, true);
      }
      await this.drain(endpoint, owner?.at);
    } catch (err) {
      this.opts.onError?.(err, `rpc route ${endpoint}`);
    }
  }

  /** One drain loop per endpoint on this instance; a request to drain meanwhile runs it again. */
  private drain(endpoint: string, seenAt?: number): Promise<void> {
    if (this.draining.has(endpoint)) {
      this.again.add(endpoint);
      return Promise.resolve();
    }
    this.draining.add(endpoint);
    const loop = this.drainLoop(endpoint, seenAt);
    this.running.add(loop);
    void loop.finally(() => this.running.delete(loop));
    return loop;
  }

  private async drainLoop(endpoint: string, seenAt?: number): Promise<void> {
    try {
      do {
        this.again.delete(endpoint);
        await this.drainOnce(endpoint, seenAt);
      } while (this.again.has(endpoint) && !this.stopped);
    } catch (err) {
      this.opts.onError?.(err, `rpc drain ${endpoint}`);
    } finally {
      this.draining.delete(endpoint);
      this.again.delete(endpoint);
    }
  }

  private async drainOnce(endpoint: string, seenAt?: number): Promise<void> {
    const { queue, peers } = this.opts;
    while (!this.stopped) {
      const reg = await this.opts.registration(endpoint);
      if (reg === undefined) {
        const why = `${endpoint} is not registered`;
        for (const entry of await queue.takeAll(endpoint))
          await this.responses.deliver(entry, this.response(entry, { result: 'NOT_REGISTERED', error: why }));
        return;
      }
      if (reg.queueMode && !this.isAwake(endpoint, seenAt)) return;
      const now = this.now();
      let lease = await queue.lease(endpoint, peers.self, now, MAX_EXCHANGE_MS);
      if (
        lease.kind === 'busy' &&
        lease.holder !== peers.self &&
        lease.holder !== '' &&
        !(await this.isAlive(lease.holder))
      ) {
        // Its holder died mid-request: taken over now rather than when the lease passes (at least once towards the device).
        lease = await queue.lease(endpoint, peers.self, now, MAX_EXCHANGE_MS, lease.holder);
      }
      if (lease.kind !== 'leased') return;
      const { entry } = lease;
      if (entry.deadline <= now) {
        await this.settle(entry, {
          result: 'TIMEOUT',
          error: "the request's deadline passed before the device could be reached",
        });
        continue;
      }
      if ((await this.goneOwner(endpoint)) !== undefined) {
        // The instance that reached the device is gone and this one has not seen it. Behind a NAT
        // and a conntrack load balancer the device accepts datagrams only from the instance its
        // own flow goes to (DESIGN invariant 2), and a datagram sent from another instance would
        // even make the node's conntrack re-map the device's next flow to this one (its reply
        // tuple taken). So the request waits, first in line, for the instance that gets the
        // device's next uplink; TIMEOUT if none comes before its deadline.
        await queue.release(endpoint, entry.req.id);
        return;
      }
      const sentAt = this.now();
      void this.responses.event(entry.req, 'rpc-sent');
      const res = await this.opts.executor.execute(
        entry.req,
        Math.max(1, Math.min(entry.deadline - now, MAX_EXCHANGE_MS)),
      );
      if (
        this.stopped &&
        (res.result === 'TIMEOUT' || res.result === 'CANCELLED' || res.result === 'INTERNAL_SERVER_ERROR')
      ) {
        await queue.release(endpoint, entry.req.id); // cut short by shutdown: another instance runs it
        return;
      }
      if (res.result === 'TIMEOUT' && this.now() < entry.deadline && (await this.movedSince(reg, sentAt))) {
        // The device moved while it was waited for (a NAT rebinding, another instance): again, from where it is now.
        await queue.release(endpoint, entry.req.id);
        void this.route(endpoint);
        return;
      }
      if (res.result === 'TIMEOUT') {
        void this.responses.event(entry.req, 'unreachable');
        if (reg.queueMode && this.now() < entry.deadline) {
          // Asleep again (LwM2M-Core 1.2 §6.5): the request stays first in line for the next wake-up.
          this.awakeUntil.delete(endpoint);
          await queue.release(endpoint, entry.req.id);
          return;
        }
      } else if (res.result !== 'NOT_REGISTERED') {
        void this.responses.event(entry.req, 'rpc-delivered', res.result);
      }
      await this.settle(entry, res);
    }
  }

  /**
   * The device's recorded owner when it is another instance that is gone and this instance has
   * not seen the device lately: a request sent from here would not get through.
   */
  private async goneOwner(endpoint: string): Promise<string | undefined> {
    if (this.owned.get(endpoint) !== undefined) return undefined;
    const owner = await this.ownerOf(endpoint);
    if (owner === undefined || owner.instance === this.opts.peers.self) return undefined;
    if (this.unreachable.get(owner.instance) !== undefined) return owner.instance;
    return (await this.isAlive(owner.instance)) ? undefined : owner.instance;
  }

  /** Whether the device has a new address, or was seen by another instance, since `since`. */
  private async movedSince(before: Registration, since: number): Promise<boolean> {
    const now = await this.opts.registration(before.endpoint);
    if (now === undefined) return false;
    if (now.address !== before.address || now.port !== before.port) return true;
    const owner = await this.ownerOf(before.endpoint);
    return owner !== undefined && owner.instance !== this.opts.peers.self && owner.at >= since;
  }

  /** Whether another instance is alive; one that cannot be checked counts as alive (the usual path). */
  private async isAlive(instance: string): Promise<boolean> {
    try {
      return await this.opts.peers.alive(instance);
    } catch (err) {
      this.opts.onError?.(err, `rpc peer ${instance}`);
      return true;
    }
  }

  private isAwake(endpoint: string, seenAt?: number): boolean {
    const now = this.now();
    if ((this.awakeUntil.get(endpoint) ?? 0) > now) return true;
    return seenAt !== undefined && seenAt + this.opts.awakeMs > now;
  }

  /** Claims the request (one caller ever succeeds) and delivers its response. */
  private async settle(entry: QueuedRpc, res: RpcResponseRecord | { result: string; error: string }): Promise<void> {
    if (!(await this.opts.queue.complete(entry.req.endpoint, entry.req.id))) return; // answered elsewhere
    await this.responses.deliver(entry, 'ts' in res ? res : this.response(entry, res));
  }

  private response(entry: QueuedRpc, body: { result: string; error: string }): RpcResponseRecord {
    return rpcResponse(entry.req, body, this.now());
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      const { expired, stalled } = await this.opts.queue.sweep(this.now());
      for (const entry of expired) {
        await this.responses.deliver(
          entry,
          this.response(entry, {
            result: 'TIMEOUT',
            error: "the device did not wake up (or answer) before the request's deadline",
          }),
        );
      }
      for (const endpoint of stalled) void this.route(endpoint);
    } catch (err) {
      this.opts.onError?.(err, 'rpc sweep');
    } finally {
      this.sweeping = false;
    }
  }

  private onPeerMessage(m: PeerMessage): void {
    if (m.kind === 'response') this.responses.resolve(m.response);
    else if (!this.stopped) void this.drain(m.endpoint);
  }

  private onServerEvent(e: ServerEvent): void {
    if (this.stopped) return;
    switch (e.type) {
      case 'registered':
        return this.uplink(e.registration, true);
      case 'updated':
        return this.uplink(e.after, true);
      case 'notification':
      case 'send':
        return this.uplink(e.registration, false);
      case 'deregistered':
      case 'expired':
        void this.endAll(e.registration.endpoint, `the registration ended (${e.type}) before the request ran`);
        return;
      default:
        return;
    }
  }

  /**
   * An uplink of the device reached this instance: Register and Update recorded it as the owner
   * (their scripts do); another uplink records it when it has not lately. Then the queue runs.
   */
  private uplink(reg: Registration, recorded: boolean): void {
    const endpoint = reg.endpoint;
    if (reg.queueMode) this.awakeUntil.set(endpoint, this.now() + this.opts.awakeMs);
    const newlyOwned = !recorded && this.owned.get(endpoint) === undefined;
    if (recorded || newlyOwned) this.owned.set(endpoint, true);
    if (newlyOwned) {
      this.opts.markSeen(endpoint, this.now()).then(
        () => this.drain(endpoint),
        (err: unknown) => {
          this.owned.delete(endpoint);
          this.opts.onError?.(err, `rpc owner ${endpoint}`);
        },
      );
    } else if (recorded || reg.queueMode) {
      // An always-on device's notifications need no drain: its queue is announced to its owner.
      void this.drain(endpoint);
    }
  }

  private async endAll(endpoint: string, why: string): Promise<void> {
    try {
      for (const entry of await this.opts.queue.takeAll(endpoint))
        await this.responses.deliver(entry, this.response(entry, { result: 'NOT_REGISTERED', error: why }));
    } catch (err) {
      this.opts.onError?.(err, `rpc end ${endpoint}`);
    }
  }
}
