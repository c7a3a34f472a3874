/**
 * Device process of the registration-storm benchmark (forked by bench/storm.ts, IPC): simulated
 * LwM2M 1.1 devices, one connected UDP socket each, that register all at once and then answer the
 * bridge's setup requests (bench/storm-answers.ts). Per device it records when its 2.01 came,
 * whether a request came before it (must never), requests held unanswered at once (NSTART = 1,
 * RFC 7252 §4.7), retransmissions by the bridge, and when its last expected request was answered.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { decode } from '../src/coap/codec';
import { Code, MessageType } from '../src/coap/message';
import { errorStack } from '../src/common/error-message';
import { emptyAck, patchMessageId, readHead, registerFrame } from './coap-frames';
import { linksFor } from './notify-frames';
import { answerTo, kindOf } from './storm-answers';
import { BUCKET_MS, type StormCommand, type StormReply, type StormReplyAny } from './storm-protocol';
import type { Target } from './protocol';

interface StormDevice {
  readonly socket: Socket;
  readonly frame: Buffer;
  mid: number;
  attempts: number;
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  createdAt: number;
  setUpAt: number;
  /** Answers by the request's Message ID (a retransmitted request gets the same answer again). */
  readonly answered: Map<number, Buffer>;
  readonly held: Set<number>;
  maxHeld: number;
  requestBeforeCreated: boolean;
  observeSeq: number;
}

let devices: StormDevice[] = [];
let run: Run | undefined;

const wallNow = (): number => performance.timeOrigin + performance.now();

/** One storm: counters and the completion check. */
class Run {
  readonly requests: Record<string, number> = {};
  readonly registerErrors: Record<string, number> = {};
  retransmittedRequests = 0;
  registerRetransmissions = 0;
  stray = 0;
  outstanding = 0;
  maxOutstanding = 0;
  readonly buckets: Int32Array;
  remaining: number;
  firstRegisterAt = 0;
  lastRegisterSentAt = 0;
  /** Devices not yet sent their Register (window < devices: each 2.01 lets the next one go). */
  queue: StormDevice[] = [];
  private done: (() => void) | undefined;

  constructor(
    readonly startAtMs: number,
    readonly expected: number,
    readonly answerDelayMs: number,
    deadlineMs: number,
  ) {
    this.buckets = new Int32Array(Math.ceil((deadlineMs - startAtMs) / BUCKET_MS) + 1);
    this.remaining = devices.length;
  }

  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.done = resolve;
      if (this.remaining === 0) resolve();
    });
  }

  /** Every BUCKET_MS: the requests held now, at index (now - start) / BUCKET_MS (the same instants in every process). */
  sample(): void {
    const b = Math.round((wallNow() - this.startAtMs) / BUCKET_MS);
    if (b >= 0 && b < this.buckets.length) this.buckets[b] = this.outstanding;
  }

  check(d: StormDevice): void {
    if (d.setUpAt >= 0 || d.createdAt < 0 || d.answered.size < this.expected || d.held.size > 0) return;
    d.setUpAt = wallNow();
    if (--this.remaining === 0) this.done?.();
  }
}

async function open(cmd: Extract<StormCommand, { kind: 'open' }>): Promise<StormReplyAny> {
  const t0 = performance.now();
  const links = linksFor('senml-json');
  const PARALLEL = 500;
  for (let i = 0; i < cmd.count; i += PARALLEL) {
    const n = Math.min(PARALLEL, cmd.count - i);
    const batch = await Promise.all(
      Array.from({ length: n }, (_, k) =>
        openOne(
          addressOf(cmd.net, i + k),
          cmd.target,
          registerFrame(`${cmd.endpointPrefix}${cmd.firstIndex + i + k}`, cmd.lifetimeS, links),
        ),
      ),
    );
    devices.push(...batch);
  }
  return { kind: 'opened', count: devices.length, elapsedMs: performance.now() - t0 };
}

/** 127.net.x.y for the k-th device of this process (x, y in 1..250). */
function addressOf(net: number, k: number): string {
  return `127.${net}.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
}

async function openOne(bindAddress: string, target: Target, frame: Buffer): Promise<StormDevice> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, bindAddress, () =>
      socket.connect(target.port, target.address, () => {
        socket.off('error', reject);
        resolve();
      }),
    );
  });
  socket.on('error', () => undefined);
  const d: StormDevice = {
    socket,
    frame,
    mid: Math.floor(Math.random() * 0x10000),
    attempts: 0,
    timeoutMs: 0,
    timer: undefined,
    createdAt: -1,
    setUpAt: -1,
    answered: new Map(),
    held: new Set(),
    maxHeld: 0,
    requestBeforeCreated: false,
    observeSeq: 0,
  };
  socket.on('message', (buf: Buffer) => onDatagram(d, buf));
  return d;
}

function onDatagram(d: StormDevice, buf: Buffer): void {
  const r = run;
  const h = readHead(buf);
  if (r === undefined || h === undefined) return;
  const isRequest = h.code >= 1 && h.code <= 31;
  if (isRequest) return onRequest(r, d, buf);
  if (h.type === MessageType.ACK) {
    if (h.messageId !== d.mid || d.createdAt >= 0) return void r.stray++;
    if (h.code === 0) return; // empty ACK: the 2.01 comes separately (RFC 7252 §5.2.2)
    return registered(r, d, h.code);
  }
  if (h.type === MessageType.CON) d.socket.send(emptyAck(h.messageId));
  if (h.tokenMid !== d.mid || d.createdAt >= 0) return void r.stray++;
  registered(r, d, h.code);
}

function registered(r: Run, d: StormDevice, code: number): void {
  if (d.timer !== undefined) clearTimeout(d.timer);
  d.timer = undefined;
  if (code !== Code.CREATED) {
    const key = `${code >> 5}.${String(code & 31).padStart(2, '0')}`;
    r.registerErrors[key] = (r.registerErrors[key] ?? 0) + 1;
    return launchNext(r);
  }
  d.createdAt = wallNow();
  r.check(d);
  launchNext(r);
}

/** With a window: the Register that ended (answered, refused or given up) lets the next device go. */
function launchNext(r: Run): void {
  const next = r.queue.pop();
  if (next !== undefined) sendRegister(r, next);
}

function onRequest(r: Run, d: StormDevice, buf: Buffer): void {
  const mid = ((buf[2] as number) << 8) | (buf[3] as number);
  const again = d.answered.get(mid);
  if (again !== undefined || d.held.has(mid)) {
    r.retransmittedRequests++;
    if (again !== undefined) d.socket.send(again);
    return;
  }
  const msg = decode(buf);
  if (msg === null) return;
  if (d.createdAt < 0) d.requestBeforeCreated = true;
  const kind = kindOf(msg);
  r.requests[kind] = (r.requests[kind] ?? 0) + 1;
  d.held.add(mid);
  if (d.held.size > d.maxHeld) d.maxHeld = d.held.size;
  r.outstanding++;
  if (r.outstanding > r.maxOutstanding) r.maxOutstanding = r.outstanding;
  const answer = (): void => {
    if (kind === 'observe') d.observeSeq++;
    const out = answerTo(msg, kind, d.observeSeq);
    d.held.delete(mid);
    d.answered.set(mid, out);
    r.outstanding--;
    d.socket.send(out);
    r.check(d);
  };
  if (r.answerDelayMs > 0) setTimeout(answer, r.answerDelayMs);
  else answer();
}

function sendRegister(r: Run, d: StormDevice): void {
  d.socket.send(d.frame);
  r.lastRegisterSentAt = wallNow();
  // RFC 7252 §4.2: ACK_TIMEOUT 2 s × [1, 1.5], doubled at each of at most MAX_RETRANSMIT = 4 retransmissions.
  d.timer = setTimeout(() => {
    if (d.attempts >= 4) return launchNext(r);
    d.attempts++;
    r.registerRetransmissions++;
    d.timeoutMs *= 2;
    sendRegister(r, d);
  }, d.timeoutMs);
}

async function storm(cmd: Extract<StormCommand, { kind: 'storm' }>): Promise<StormReply> {
  const r = new Run(cmd.startAtMs, cmd.expectedSetupRequests, cmd.answerDelayMs, cmd.deadlineMs);
  for (const d of devices) {
    d.mid = (d.mid + 1) & 0xffff;
    patchMessageId(d.frame, d.mid);
    d.attempts = 0;
    d.timeoutMs = 2000 * (1 + Math.random() * 0.5);
    d.createdAt = -1;
    d.setUpAt = -1;
    d.answered.clear();
    d.held.clear();
    d.maxHeld = 0;
    d.requestBeforeCreated = false;
  }
  run = r;
  await sleep(cmd.startAtMs - wallNow());
  const sampler = setInterval(() => r.sample(), BUCKET_MS);
  r.firstRegisterAt = wallNow();
  // All at once (the sends are queued back to back), or at most `window` outstanding.
  r.queue = devices.slice(Math.min(devices.length, cmd.window)).reverse();
  for (const d of devices.slice(0, cmd.window)) sendRegister(r, d);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, cmd.deadlineMs - wallNow())));
  await Promise.race([r.wait(), deadline]);
  clearInterval(sampler);
  for (const d of devices) if (d.timer !== undefined) clearTimeout(d.timer);
  run = undefined;
  let maxPerDevice = 0;
  let over = 0;
  let before = 0;
  let unregistered = 0;
  for (const d of devices) {
    maxPerDevice = Math.max(maxPerDevice, d.maxHeld);
    if (d.maxHeld > 1) over++;
    if (d.requestBeforeCreated) before++;
    if (d.createdAt < 0) unregistered++;
  }
  return {
    kind: 'stormed',
    devices: devices.length,
    firstRegisterAtMs: r.firstRegisterAt,
    lastRegisterSentAtMs: r.lastRegisterSentAt,
    createdAtMs: Float64Array.from(devices, (d) => d.createdAt),
    setUpAtMs: Float64Array.from(devices, (d) => d.setUpAt),
    registerRetransmissions: r.registerRetransmissions,
    registerErrors: r.registerErrors,
    unregistered,
    requests: r.requests,
    retransmittedRequests: r.retransmittedRequests,
    requestBeforeCreated: before,
    maxOutstandingPerDevice: maxPerDevice,
    devicesOverNstart: over,
    outstandingByBucket: r.buckets,
    maxOutstanding: r.maxOutstanding,
    stray: r.stray,
  };
}

async function handle(cmd: StormCommand): Promise<StormReplyAny> {
  switch (cmd.kind) {
    case 'open':
      return open(cmd);
    case 'storm':
      return storm(cmd);
    case 'close':
      await Promise.all(devices.map((d) => new Promise<void>((resolve) => d.socket.close(() => resolve()))));
      devices = [];
      return { kind: 'closed' };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

if (process.send === undefined) throw new Error('bench/storm-devices must be forked with an IPC channel');
process.on('message', (cmd: StormCommand) => {
  handle(cmd).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ kind: 'error', message: errorStack(err) } satisfies StormReplyAny),
  );
});
process.on('disconnect', () => process.exit(0));
