/**
 * A closed-loop request driver: `window` lanes, each sending one CON request, waiting for its
 * response (or a timeout), then sending the next. Each device has at most one request outstanding
 * (NSTART = 1, RFC 7252 §4.7), so the window bounds the load on the server and latency measures
 * service time plus queueing, not an ever-growing backlog. No retransmissions: a lost request
 * counts as a timeout.
 */
import { performance } from 'node:perf_hooks';
import { MessageType } from '../src/coap/message';
import { emptyAck, patchMessageId, readHead } from './coap-frames';
import type { Device } from './device';
import { type ClosedLoopOptions, type LoopCounters, newCounters } from './protocol';

export interface LoopHooks {
  /** The next device to send from (its `frame` set), or undefined to end the lane. */
  next(): Device | undefined;
  /** A response (any class): `code` is the CoAP code. */
  onResponse(device: Device, code: number, buf: Buffer, sentAt: number, now: number): void;
  /** No answer in time, or a RST: the request failed. */
  onTimeout(device: Device): void;
  /** Whether an outcome at `now` belongs in the counters (a measurement window); default always. */
  counts?(now: number): boolean;
}

export class ClosedLoop {
  readonly counters: LoopCounters = newCounters();
  private readonly inflight = new Set<Device>();
  private stopping = false;
  private sweeper: NodeJS.Timeout | undefined;
  private drainedResolve: (() => void) | undefined;

  constructor(
    private readonly opts: ClosedLoopOptions,
    private readonly hooks: LoopHooks,
  ) {}

  /** Starts the lanes; resolves when every lane has ended (next() gave undefined or stop()) and nothing is outstanding. */
  run(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.drainedResolve = resolve));
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(100, this.opts.timeoutMs / 4)));
    for (let i = 0; i < this.opts.window; i++) this.launch();
    this.checkDrained();
    return done;
  }

  /** Stops launching; run() resolves once outstanding requests are answered or time out. */
  stop(): void {
    this.stopping = true;
    this.checkDrained();
  }

  /** Entry point for every datagram a device's socket receives while this loop runs. */
  readonly onDatagram = (d: Device, buf: Buffer): void => {
    const h = readHead(buf);
    if (h === undefined) return void this.counters.stray++;
    if (h.type === MessageType.ACK) {
      if (!d.busy || h.messageId !== d.mid) return void this.counters.stray++;
      if (h.code === 0) {
        d.acked = true; // RFC 7252 §5.2.2: the response follows as a separate message.
        return;
      }
      this.complete(d, h.code, buf);
    } else if (h.type === MessageType.RST) {
      if (!d.busy || h.messageId !== d.mid) return void this.counters.stray++;
      this.finish(d);
      if (this.counts(performance.now())) this.counters.resets++;
      this.hooks.onTimeout(d);
      this.relaunch();
    } else {
      // A separate response (CON or NON), matched by token; a CON one must be acknowledged.
      if (h.type === MessageType.CON) d.socket.send(emptyAck(h.messageId));
      if (!d.busy || h.tokenMid !== d.mid) return void this.counters.stray++;
      this.counters.separate++;
      this.complete(d, h.code, buf);
    }
  };

  private counts(now: number): boolean {
    return this.hooks.counts ? this.hooks.counts(now) : true;
  }

  private launch(): void {
    if (this.stopping) return;
    const d = this.hooks.next();
    if (d === undefined) return;
    d.mid = (d.mid + 1) & 0xffff;
    patchMessageId(d.frame, d.mid);
    d.busy = true;
    d.acked = false;
    this.inflight.add(d);
    d.sentAt = performance.now();
    if (this.counts(d.sentAt)) this.counters.sent++;
    d.socket.send(d.frame);
  }

  private complete(d: Device, code: number, buf: Buffer): void {
    const now = performance.now();
    this.finish(d);
    if (this.counts(now)) {
      if (code >> 5 === 2) this.counters.ok++;
      else {
        const key = `${code >> 5}.${String(code & 31).padStart(2, '0')}`;
        this.counters.errorCodes[key] = (this.counters.errorCodes[key] ?? 0) + 1;
      }
    }
    this.hooks.onResponse(d, code, buf, d.sentAt, now);
    this.relaunch();
  }

  private finish(d: Device): void {
    d.busy = false;
    this.inflight.delete(d);
  }

  /** The lane that just ended continues with the next request, or ends. */
  private relaunch(): void {
    this.launch();
    if (this.inflight.size === 0) this.checkDrained();
  }

  private sweep(): void {
    const now = performance.now();
    const expired: Device[] = [];
    for (const d of this.inflight) if (now - d.sentAt > this.opts.timeoutMs) expired.push(d);
    for (const d of expired) {
      this.finish(d);
      if (this.counts(now)) this.counters.timeouts++;
      this.hooks.onTimeout(d);
      this.launch();
    }
    if (this.inflight.size === 0) this.checkDrained();
  }

  private checkDrained(): void {
    // Lanes end when next() has nothing (registration) or on stop(); either way, done when idle.
    if (this.inflight.size > 0) return;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    const resolve = this.drainedResolve;
    this.drainedResolve = undefined;
    resolve?.();
  }
}
