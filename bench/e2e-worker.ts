/**
 * Device worker of the end-to-end benchmark (worker_threads): simulated LwM2M devices that
 * register, answer the bridge's Observe (2.05 + Observe, token echoed) and then send CON
 * notifications carrying that token, an increasing Observe number and their send time as value.
 */
import { benchKey } from './dtls-keys';
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Code } from '../src/coap/message';
import { closeDevices, openDevices, type DatagramSink, type Device } from './device';
import type {
  BatchedReply,
  E2eCommand,
  E2eFormat,
  E2eReply,
  NotifiedReply,
  ObservedReply,
  RegistrationSpec,
} from './e2e-protocol';
import {
  answer,
  classifyRequest,
  isRequest,
  linksFor,
  MAX_NOTIFICATION_BYTES,
  writeNotification,
} from './notify-frames';
import { NotifyLoop } from './notify-loop';
import { addCounters, newCounters, type RegisterReply } from './protocol';
import { registerDevices } from './register-loop';
import { SampleBuffer } from './stats';
import { errorStack } from '../src/common/error-message';

interface Observed {
  token: Buffer | undefined;
  seq: number;
}

let devices: Device[] = [];
let format: E2eFormat = 'senml-json';
let epochMs = performance.timeOrigin;
let loopSink: DatagramSink = () => undefined;
const observed = new Map<Device, Observed>();
const stats = { observeRequests: 0, otherRequests: 0 };
const FRAME_BYTES = MAX_NOTIFICATION_BYTES + 32;
const wallNow = (): number => performance.timeOrigin + performance.now();
/** ms since the epoch, µs resolution: the value each notification carries. */
const stamp = (): number => Math.round((wallNow() - epochMs) * 1000) / 1000;

/** Every datagram: requests from the bridge are answered here, the rest goes to the running loop. */
function onDatagram(d: Device, buf: Buffer): void {
  if (!isRequest(buf)) return loopSink(d, buf);
  const req = classifyRequest(buf);
  if (req === undefined) return;
  let state = observed.get(d);
  if (state === undefined) observed.set(d, (state = { token: undefined, seq: 0 }));
  if (req.kind === 'observe') {
    stats.observeRequests++;
    state.token = Buffer.from(req.msg.token);
    state.seq = (state.seq + 1) & 0xffffff;
    d.socket.send(answer(req.msg, Code.CONTENT, { seq: state.seq, format, value: stamp() }));
  } else if (req.kind === 'cancel') {
    state.token = undefined;
    d.socket.send(answer(req.msg, Code.CONTENT));
  } else {
    stats.otherRequests++;
    d.socket.send(answer(req.msg, Code.METHOD_NOT_ALLOWED));
  }
}

const sinkNow = (): DatagramSink => onDatagram;

async function handle(cmd: E2eCommand): Promise<E2eReply> {
  switch (cmd.kind) {
    case 'open': {
      const t0 = performance.now();
      format = cmd.format;
      devices = devices.concat(
        await openDevices(
          cmd.firstIndex,
          cmd.count,
          cmd.bindAddress,
          cmd.target,
          sinkNow,
          cmd.dtls === true ? { endpointPrefix: 'e2e-', key: benchKey } : undefined,
        ),
      );
      return { kind: 'opened', count: devices.length, elapsedMs: performance.now() - t0 };
    }
    case 'register':
      return register(devices, cmd);
    case 'await-observed':
      return awaitObserved(
        devices.filter((d) => d.location !== undefined),
        cmd.timeoutMs,
      );
    case 'notify':
      return notify(cmd);
    case 'register-observed-batched':
      return registerObservedBatched(cmd);
    case 'close':
      await closeDevices(devices);
      for (const d of devices) observed.delete(d);
      devices = [];
      return { kind: 'closed' };
  }
}

function register(pool: readonly Device[], spec: RegistrationSpec): Promise<RegisterReply> {
  return registerDevices(pool, { ...spec, links: linksFor(format) }, (s) => (loopSink = s));
}

async function awaitObserved(pool: readonly Device[], timeoutMs: number): Promise<ObservedReply> {
  const t0 = performance.now();
  const count = (): number => pool.reduce((n, d) => n + (observed.get(d)?.token !== undefined ? 1 : 0), 0);
  while (count() < pool.length && performance.now() - t0 < timeoutMs) await sleep(50);
  return { kind: 'observed', registered: pool.length, observed: count(), ...stats, elapsedMs: performance.now() - t0 };
}

async function notify(cmd: Extract<E2eCommand, { kind: 'notify' }>): Promise<NotifiedReply> {
  epochMs = cmd.epochMs;
  const pool = devices.filter((d) => observed.get(d)?.token !== undefined);
  // Registration left its Register frame there: each device gets a buffer its notifications are written into.
  for (const d of pool) if (d.frame.length < FRAME_BYTES) d.frame = Buffer.alloc(FRAME_BYTES);
  const t0 = cmd.startAtMs - performance.timeOrigin + cmd.warmupMs;
  const t1 = t0 + cmd.durationMs;
  const latencies = new SampleBuffer();
  let sentInWindowAcked = 0;
  let cursor = 0;
  const loop = new NotifyLoop(
    { ...cmd.loop, ratePerSecond: cmd.ratePerSecond },
    {
      next() {
        for (let tries = 0; tries < pool.length; tries++) {
          const d = pool[cursor] as Device;
          cursor = cursor + 1 === pool.length ? 0 : cursor + 1;
          const s = observed.get(d);
          if (d.busy || s?.token === undefined) continue;
          d.mid = (d.mid + 1) & 0xffff;
          s.seq = (s.seq + 1) & 0xffffff;
          return { device: d, length: writeNotification(d.frame, d.mid, s.token, s.seq, format, stamp()) };
        }
        return undefined;
      },
      onAck(_d, sentAt, now) {
        if (sentAt >= t0 && sentAt < t1) {
          sentInWindowAcked++;
          latencies.push(now - sentAt);
        }
      },
      onReset(d) {
        const s = observed.get(d);
        if (s) s.token = undefined;
      },
      counts: (now) => now >= t0 && now < t1,
    },
  );
  loopSink = loop.onDatagram;
  await sleep(cmd.startAtMs - wallNow());
  const stopper = setTimeout(() => loop.stop(), Math.max(0, t1 - performance.now()));
  await loop.run();
  clearTimeout(stopper);
  return {
    kind: 'notified',
    counters: loop.counters,
    sentInWindowAcked,
    measuredMs: cmd.durationMs,
    ackLatenciesMs: latencies.toArray(),
  };
}

async function registerObservedBatched(
  cmd: Extract<E2eCommand, { kind: 'register-observed-batched' }>,
): Promise<BatchedReply> {
  format = cmd.format;
  const counters = newCounters();
  const parts: Float64Array[] = [];
  let registered = 0;
  let failed = 0;
  let observedCount = 0;
  const startWallMs = wallNow();
  for (let b = 0, done = 0; done < cmd.count; b++) {
    const n = Math.min(cmd.batchSize, cmd.count - done);
    const address = cmd.bindAddresses[b % cmd.bindAddresses.length] as string;
    const batch = await openDevices(cmd.firstIndex + done, n, address, cmd.target, sinkNow);
    const r = await register(batch, cmd);
    const o = await awaitObserved(
      batch.filter((d) => d.location !== undefined),
      cmd.observeTimeoutMs,
    );
    await closeDevices(batch);
    for (const d of batch) observed.delete(d);
    addCounters(counters, r.counters);
    parts.push(r.latenciesMs);
    registered += r.registered;
    failed += r.failed;
    observedCount += o.observed;
    done += n;
  }
  const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((pos, p) => (all.set(p, pos), pos + p.length), 0);
  return {
    kind: 'registered-observed',
    counters,
    registered,
    failed,
    observed: observedCount,
    startWallMs,
    endWallMs: wallNow(),
    latenciesMs: all,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

const port = parentPort;
if (port === null) throw new Error('bench/e2e-worker must run as a worker thread');
port.on('message', (cmd: E2eCommand) => {
  handle(cmd).then(
    (reply) => {
      const buf =
        'latenciesMs' in reply
          ? reply.latenciesMs.buffer
          : 'ackLatenciesMs' in reply
            ? reply.ackLatenciesMs.buffer
            : undefined;
      port.postMessage(reply, buf ? [buf] : []);
    },
    (err: unknown) => port.postMessage({ kind: 'error', message: errorStack(err) } satisfies E2eReply),
  );
});
