/**
 * Outbound exchanges: our requests to devices and our separate responses (RFC 7252 §4.2, §5.2.2).
 * CON messages are retransmitted with exponential back-off: the first timeout is random in
 * [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR] and doubles up to MAX_RETRANSMIT times (§4.2).
 * Responses are matched by Message ID for ACKs and by token + peer for separate responses (§5.3.2).
 * A request acknowledged with an empty ACK waits for its separate response (§5.2.2) at most
 * `separateResponseTimeoutMs`, then ends with a timeout; a response that comes later is
 * recognised for EXCHANGE_LIFETIME, acknowledged and dropped (one device that acknowledges and
 * never answers cannot hold its queue for a whole request deadline).
 */
import { randomBytes } from 'node:crypto';
import { CoapCancelledError, type CoapResetError, CoapTimeoutError } from '../common/errors';
import { TtlLruCache } from '../common/lru-cache';
import { displayAddress, peerKey, type Peer } from '../transport/types';
import { encode } from './codec';
import { EMPTY_BUFFER, MessageType, type CoapMessage, type CoapOption } from './message';
import { exchangeLifetimeMs, type TransmissionParams } from './params';
import type { CoapStats } from './stats';

export interface OutboundRequest {
  readonly code: number;
  readonly options: readonly CoapOption[];
  readonly payload?: Buffer;
  /** CON (default) or NON. */
  readonly confirmable?: boolean;
  /** Token to use (e.g. an observation's); a random 8-byte token otherwise. */
  readonly token?: Buffer;
  /** Deadline for the whole exchange, including a separate response after an empty ACK. */
  readonly timeoutMs?: number;
  /** After an empty ACK, how long this request's separate response may take (default: the endpoint's bound). */
  readonly separateTimeoutMs?: number;
}

interface Exchange {
  readonly peer: Peer;
  readonly midKey: string;
  readonly tokenKey: string | undefined;
  readonly buf: Buffer;
  readonly confirmable: boolean;
  attempts: number;
  timeoutMs: number;
  /** When the whole exchange ends (Date.now() ms); Infinity for our separate responses. */
  readonly deadlineAt: number;
  /** After an empty ACK, how long the separate response may take. */
  separateMs: number;
  /** Counted among its peer's outstanding requests (NSTART, §4.7): sent, not yet finished. */
  counted: boolean;
  /** Finished (answered, failed or given up): a queued exchange that is done is never sent. */
  done: boolean;
  retransmitTimer: NodeJS.Timeout | undefined;
  deadlineTimer: NodeJS.Timeout | undefined;
  resolve(msg: CoapMessage): void;
  reject(err: Error): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** Given-up requests whose late response is still recognised, at most. */
const MAX_ABANDONED = 10_000;

export interface OutboundOptions {
  /** After an empty ACK, how long the separate response may take (default: the exchange's deadline). */
  readonly separateResponseTimeoutMs?: number;
}

/** What a CON/NON response is to us: the answer to an exchange, a late answer we gave up on, or neither. */
export type SeparateMatch = 'matched' | 'late' | 'none';

export class OutboundExchanges {
  private readonly byMid = new Map<string, Exchange>();
  private readonly byToken = new Map<string, Exchange>();
  private readonly nextMid = new Map<string, { mid: number; used: number }>();
  /** Tokens (with their peer) of requests given up after an empty ACK. */
  private readonly abandoned: TtlLruCache<true>;
  private readonly separateMs: number;
  /** Our requests outstanding per peer (RFC 7252 §4.7 NSTART), and those waiting their turn. */
  private readonly outstanding = new Map<string, number>();
  private readonly waiting = new Map<string, Exchange[]>();
  private readonly nstart: number;
  /** cancelAll ran: nothing waiting is sent any more. */
  private closed = false;

  constructor(
    private readonly params: TransmissionParams,
    private readonly stats: CoapStats,
    private readonly send: (buf: Buffer, peer: Peer) => void,
    opts: OutboundOptions = {},
  ) {
    this.separateMs = opts.separateResponseTimeoutMs ?? Number.POSITIVE_INFINITY;
    this.nstart = params.nstart ?? 1;
    this.abandoned = new TtlLruCache(MAX_ABANDONED, exchangeLifetimeMs(params));
  }

  start(peer: Peer, req: OutboundRequest): Promise<CoapMessage> {
    const token = req.token ?? randomToken();
    const confirmable = req.confirmable ?? true;
    const mid = this.allocateMid(peer);
    const buf = encode({
      type: confirmable ? MessageType.CON : MessageType.NON,
      code: req.code,
      messageId: mid,
      token,
      options: req.options,
      payload: req.payload ?? EMPTY_BUFFER,
    });
    const timeout = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<CoapMessage>((resolve, reject) => {
      const ex = this.track(peer, mid, token.toString('hex'), buf, confirmable, resolve, reject, Date.now() + timeout);
      if (req.separateTimeoutMs !== undefined) ex.separateMs = req.separateTimeoutMs;
      ex.deadlineTimer = setTimeout(
        () => this.fail(ex, new CoapTimeoutError(`no response from ${peerKey(peer)} within ${timeout} ms`)),
        timeout,
      );
      this.admit(ex);
    });
  }

  /**
   * RFC 7252 §4.7: at most NSTART requests outstanding to one peer (a constrained device may hold
   * a single transaction): the others wait, in order, within their own deadline. Setup requests,
   * RPCs and cancellations to a device thus never overlap.
   */
  private admit(ex: Exchange): void {
    const key = endpointKey(ex.peer);
    const n = this.outstanding.get(key) ?? 0;
    if (n < this.nstart) {
      this.outstanding.set(key, n + 1);
      ex.counted = true;
      this.transmit(ex);
      return;
    }
    const queue = this.waiting.get(key);
    if (queue === undefined) this.waiting.set(key, [ex]);
    else queue.push(ex);
  }

  /** An outstanding request of this peer finished: the next one waiting, if any, is sent. */
  private release(peer: Peer): void {
    const key = endpointKey(peer);
    const queue = this.waiting.get(key);
    let next = queue?.shift();
    while (next !== undefined && next.done) next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.waiting.delete(key);
    if (next !== undefined && !this.closed) {
      next.counted = true;
      this.transmit(next);
      return;
    }
    const n = (this.outstanding.get(key) ?? 1) - 1;
    if (n > 0) this.outstanding.set(key, n);
    else this.outstanding.delete(key);
  }

  /** A separate response of ours (§5.2.2): CON is retransmitted until ACKed; NON is sent once. */
  sendSeparateResponse(peer: Peer, msg: Omit<CoapMessage, 'messageId'>): void {
    const mid = this.allocateMid(peer);
    const buf = encode({ ...msg, messageId: mid });
    if (msg.type !== MessageType.CON) {
      this.send(buf, peer);
      return;
    }
    const ex = this.track(peer, mid, undefined, buf, true, noop, noop, Number.POSITIVE_INFINITY);
    this.transmit(ex);
  }

  onEmptyAck(msg: CoapMessage, peer: Peer): void {
    const ex = this.byMid.get(midKey(peer, msg.messageId));
    if (ex === undefined) return;
    this.stopRetransmission(ex);
    if (ex.tokenKey === undefined) return this.finish(ex); // ACK of our separate response: done.
    // Our request is acknowledged; its response comes separately (§5.2.2), within our own bound.
    const bound = ex.separateMs;
    if (bound >= ex.deadlineAt - Date.now()) return;
    if (ex.deadlineTimer !== undefined) clearTimeout(ex.deadlineTimer);
    ex.deadlineTimer = setTimeout(() => this.abandon(ex, bound), bound);
  }

  onReset(msg: CoapMessage, peer: Peer, err: CoapResetError): void {
    const ex = this.byMid.get(midKey(peer, msg.messageId));
    if (ex !== undefined) this.fail(ex, err);
  }

  /** ACK carrying a response: matched by Message ID, then the token must match too (§5.3.2). */
  onPiggybacked(msg: CoapMessage, peer: Peer): boolean {
    const ex = this.byMid.get(midKey(peer, msg.messageId));
    if (ex === undefined || ex.tokenKey !== msg.token.toString('hex')) return false;
    this.finish(ex);
    ex.resolve(msg);
    return true;
  }

  /** CON/NON response: matched by token and peer (§5.3.2). */
  onSeparate(msg: CoapMessage, peer: Peer): SeparateMatch {
    const key = tokenMapKey(peer, msg.token.toString('hex'));
    const ex = this.byToken.get(key);
    if (ex === undefined) {
      if (this.abandoned.get(key) === undefined) return 'none';
      this.abandoned.delete(key);
      this.stats.lateResponses++;
      return 'late';
    }
    this.finish(ex);
    ex.resolve(msg);
    return 'matched';
  }

  sweep(now: number): void {
    const cutoff = now - exchangeLifetimeMs(this.params);
    for (const [key, m] of this.nextMid) if (m.used < cutoff) this.nextMid.delete(key);
  }

  cancelAll(): void {
    this.closed = true;
    for (const ex of [...this.byMid.values()]) this.fail(ex, new CoapCancelledError('endpoint closed'));
  }

  get inFlight(): number {
    return this.byMid.size;
  }

  private track(
    peer: Peer,
    mid: number,
    tokenKey: string | undefined,
    buf: Buffer,
    confirmable: boolean,
    resolve: (m: CoapMessage) => void,
    reject: (e: Error) => void,
    deadlineAt: number,
  ): Exchange {
    const p = this.params;
    const ex: Exchange = {
      peer,
      midKey: midKey(peer, mid),
      tokenKey,
      buf,
      confirmable,
      attempts: 0,
      timeoutMs: p.ackTimeoutMs * (1 + Math.random() * (p.ackRandomFactor - 1)),
      deadlineAt,
      separateMs: this.separateMs,
      counted: false,
      done: false,
      retransmitTimer: undefined,
      deadlineTimer: undefined,
      resolve,
      reject,
    };
    this.byMid.set(ex.midKey, ex);
    if (tokenKey !== undefined) this.byToken.set(tokenMapKey(peer, tokenKey), ex);
    return ex;
  }

  private transmit(ex: Exchange): void {
    this.send(ex.buf, ex.peer);
    if (!ex.confirmable) return;
    ex.retransmitTimer = setTimeout(() => {
      if (ex.attempts >= this.params.maxRetransmit) {
        this.stats.timeouts++;
        this.fail(
          ex,
          new CoapTimeoutError(`${peerKey(ex.peer)} did not acknowledge after ${ex.attempts} retransmissions`),
        );
        return;
      }
      ex.attempts++;
      ex.timeoutMs *= 2;
      this.stats.retransmissions++;
      this.transmit(ex);
    }, ex.timeoutMs);
  }

  private stopRetransmission(ex: Exchange): void {
    if (ex.retransmitTimer !== undefined) clearTimeout(ex.retransmitTimer);
    ex.retransmitTimer = undefined;
  }

  private finish(ex: Exchange): void {
    if (ex.done) return;
    ex.done = true;
    this.stopRetransmission(ex);
    if (ex.deadlineTimer !== undefined) clearTimeout(ex.deadlineTimer);
    this.byMid.delete(ex.midKey);
    if (ex.tokenKey !== undefined) {
      const key = tokenMapKey(ex.peer, ex.tokenKey);
      if (this.byToken.get(key) === ex) this.byToken.delete(key);
    }
    if (ex.counted) {
      ex.counted = false;
      this.release(ex.peer);
    }
  }

  /** An acknowledged request whose separate response did not come within `bound`. */
  private abandon(ex: Exchange, bound: number): void {
    this.stats.separateTimeouts++;
    if (ex.tokenKey !== undefined) this.abandoned.set(tokenMapKey(ex.peer, ex.tokenKey), true);
    this.fail(
      ex,
      new CoapTimeoutError(`${peerKey(ex.peer)} acknowledged the request but sent no response within ${bound} ms`),
    );
  }

  private fail(ex: Exchange, err: Error): void {
    this.finish(ex);
    ex.reject(err);
  }

  private allocateMid(peer: Peer): number {
    const key = endpointKey(peer);
    let m = this.nextMid.get(key);
    if (m === undefined) {
      m = { mid: Math.floor(Math.random() * 0x10000), used: 0 };
      this.nextMid.set(key, m);
    }
    m.used = Date.now();
    const mid = m.mid;
    m.mid = (mid + 1) & 0xffff;
    return mid;
  }
}

/**
 * Exchanges and Message IDs are keyed by the peer's address in display form, so that a request sent
 * to 1.2.3.4 on a dual-stack socket matches the ACK that arrives from ::ffff:1.2.3.4 (RFC 7252 §4.4:
 * the ACK must come from the endpoint the CON was sent to; that is the same endpoint).
 */
const endpointKey = (peer: Peer): string => peerKey({ address: displayAddress(peer.address), port: peer.port });
const midKey = (peer: Peer, mid: number): string => `${endpointKey(peer)}#${mid}`;
/** Tokens are only unique per peer (RFC 7252 §5.3.1): separate responses are matched by both. */
const tokenMapKey = (peer: Peer, tokenHex: string): string => `${endpointKey(peer)}|${tokenHex}`;
const noop = (): void => undefined;

let tokenPool = Buffer.alloc(0);
let tokenPos = 0;
/** 8-byte random tokens from a pooled CSPRNG buffer (RFC 7252 §5.3.1: tokens should be unguessable). */
function randomToken(): Buffer {
  if (tokenPos + 8 > tokenPool.length) {
    tokenPool = randomBytes(8 * 512);
    tokenPos = 0;
  }
  const t = Buffer.from(tokenPool.subarray(tokenPos, tokenPos + 8));
  tokenPos += 8;
  return t;
}
export { randomToken };
