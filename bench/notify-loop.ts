/**
 * The notification driver: `window` lanes, each sending one CON notification from an observed
 * device and waiting for the bridge's empty ACK (or a RST, or a timeout) before the next one.
 * One notification per device at a time (NSTART = 1), no retransmission. With a rate, lanes
 * also wait for credit from a token bucket (refilled every 2 ms, at most 10 ms of burst), so the
 * offered load is capped at `ratePerSecond` while the window still bounds what is outstanding.
 *
 * Why CON: the bridge ACKs a notification once it has matched it (by token, through the
 * observation store), so the loop is closed on the bridge's intake and the ACK counts prove the
 * bridge took each one; with NON nothing bounds the load but a rate, and a drop is invisible.
 */
import { performance } from 'node:perf_hooks';
import { MessageType } from '../src/coap/message';
import { readHead } from './coap-frames';
import type { Device } from './device';
import type { NotifyCounters } from './e2e-protocol';
import type { ClosedLoopOptions } from './protocol';

export interface NotifyHooks {
  /** The next device to notify from, its frame written (returns the frame length), or undefined. */
  next(): { readonly device: Device; readonly length: number } | undefined;
  onAck(device: Device, sentAt: number, now: number): void;
  /** RST: the bridge forgot the observation. */
  onReset(device: Device): void;
  counts(now: number): boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class NotifyLoop {
  readonly counters: Mutable<NotifyCounters> = {
    sent: 0,
    ok: 0,
    errorCodes: {},
    timeouts: 0,
    resets: 0,
    separate: 0,
    stray: 0,
    lostObservations: 0,
  };
  private readonly inflight = new Set<Device>();
  private stopping = false;
  private parked = 0;
  private credits = 0;
  private refilledAt = performance.now();
  private sweeper: NodeJS.Timeout | undefined;
  private pacer: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly opts: ClosedLoopOptions & { readonly ratePerSecond: number },
    private readonly hooks: NotifyHooks,
  ) {}

  run(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.drained = resolve));
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(100, this.opts.timeoutMs / 4)));
    if (this.opts.ratePerSecond > 0) this.pacer = setInterval(() => this.pace(), 2);
    for (let i = 0; i < this.opts.window; i++) this.launch();
    this.checkDrained();
    return done;
  }

  stop(): void {
    this.stopping = true;
    this.parked = 0;
    this.checkDrained();
  }

  readonly onDatagram = (d: Device, buf: Buffer): void => {
    const h = readHead(buf);
    if (h === undefined || !d.busy || h.messageId !== d.mid) return void this.counters.stray++;
    const now = performance.now();
    if (h.type === MessageType.ACK && h.code === 0) {
      this.finish(d);
      if (this.hooks.counts(now)) this.counters.ok++;
      this.hooks.onAck(d, d.sentAt, now);
    } else if (h.type === MessageType.RST) {
      this.finish(d);
      if (this.hooks.counts(now)) {
        this.counters.resets++;
        this.counters.lostObservations++;
      }
      this.hooks.onReset(d);
    } else return void this.counters.stray++;
    this.launch();
    this.checkDrained();
  };

  private launch(): void {
    if (this.stopping) return;
    if (this.opts.ratePerSecond > 0) {
      this.refill();
      if (this.credits < 1) {
        this.parked++;
        return;
      }
      this.credits--;
    }
    const n = this.hooks.next();
    if (n === undefined) return;
    const d = n.device;
    d.busy = true;
    this.inflight.add(d);
    d.sentAt = performance.now();
    if (this.hooks.counts(d.sentAt)) this.counters.sent++;
    d.socket.send(d.frame.subarray(0, n.length));
  }

  private refill(): void {
    const now = performance.now();
    const rate = this.opts.ratePerSecond;
    this.credits = Math.min(Math.max(1, rate / 100), this.credits + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
  }

  private pace(): void {
    this.refill();
    while (this.parked > 0 && this.credits >= 1 && !this.stopping) {
      this.parked--;
      this.launch();
    }
  }

  private finish(d: Device): void {
    d.busy = false;
    this.inflight.delete(d);
  }

  private sweep(): void {
    const now = performance.now();
    const expired: Device[] = [];
    for (const d of this.inflight) if (now - d.sentAt > this.opts.timeoutMs) expired.push(d);
    for (const d of expired) {
      this.finish(d);
      if (this.hooks.counts(now)) this.counters.timeouts++;
      this.launch();
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.stopping || this.inflight.size > 0) return;
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.pacer) clearInterval(this.pacer);
    this.sweeper = this.pacer = undefined;
    const resolve = this.drained;
    this.drained = undefined;
    resolve?.();
  }
}
