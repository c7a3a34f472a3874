/**
 * Load-generator worker (worker_threads): owns a share of the simulated devices and runs the
 * closed loops the main thread asks for, so that generating load never shares an event loop
 * with the orchestration (and the server is another process altogether).
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { ClosedLoop } from './closed-loop';
import { sendFrame } from './coap-frames';
import { closeDevices, openDevices, type DatagramSink, type Device } from './device';
import { addCounters, newCounters, type Command, type RegisterReply, type Reply, type SendReply } from './protocol';
import { registerDevices } from './register-loop';
import { SampleBuffer } from './stats';
import { errorStack } from '../src/common/error-message';

let devices: Device[] = [];
let sink: DatagramSink = () => undefined;
const currentSink = (): DatagramSink => sink;
const wallNow = (): number => performance.timeOrigin + performance.now();

async function handle(cmd: Command): Promise<Reply> {
  switch (cmd.kind) {
    case 'open': {
      const t0 = performance.now();
      devices = devices.concat(await openDevices(cmd.firstIndex, cmd.count, cmd.bindAddress, cmd.target, currentSink));
      return { kind: 'opened', count: devices.length, elapsedMs: performance.now() - t0 };
    }
    case 'register':
      return register(devices, cmd.loop, cmd.endpointPrefix, cmd.lifetimeS, cmd.retries);
    case 'send':
      return send(cmd);
    case 'register-batched':
      return registerBatched(cmd);
    case 'close':
      await closeDevices(devices);
      devices = [];
      return { kind: 'closed' };
  }
}

function register(
  pool: readonly Device[],
  loop: { window: number; timeoutMs: number },
  prefix: string,
  lifetimeS: number,
  retries: number,
): Promise<RegisterReply> {
  return registerDevices(pool, { loop, endpointPrefix: prefix, lifetimeS, retries }, (s) => (sink = s));
}

async function send(cmd: Extract<Command, { kind: 'send' }>): Promise<SendReply> {
  const template = sendFrame(cmd.format);
  const pool = devices.filter((d) => d.location !== undefined);
  for (const d of pool) d.frame = Buffer.from(template);
  const latencies = new SampleBuffer();
  // Measured window [t0, t1) on this thread's performance clock.
  const t0 = cmd.startAtMs - performance.timeOrigin + cmd.warmupMs;
  const t1 = t0 + cmd.durationMs;
  let cursor = 0;
  const cl = new ClosedLoop(cmd.loop, {
    next() {
      for (let tries = 0; tries < pool.length; tries++) {
        const d = pool[cursor] as Device;
        cursor = cursor + 1 === pool.length ? 0 : cursor + 1;
        if (!d.busy) return d;
      }
      return undefined;
    },
    onResponse(_d, code, _buf, sentAt, now) {
      if (code >> 5 === 2 && sentAt >= t0 && sentAt < t1) latencies.push(now - sentAt);
    },
    onTimeout() {},
    counts: (now) => now >= t0 && now < t1,
  });
  sink = cl.onDatagram;
  await sleep(cmd.startAtMs - wallNow());
  const stopper = setTimeout(() => cl.stop(), Math.max(0, t1 - performance.now()));
  await cl.run();
  clearTimeout(stopper);
  return { kind: 'sent', counters: cl.counters, measuredMs: cmd.durationMs, latenciesMs: latencies.toArray() };
}

async function registerBatched(cmd: Extract<Command, { kind: 'register-batched' }>): Promise<RegisterReply> {
  const counters = newCounters();
  const parts: Float64Array[] = [];
  let registered = 0;
  let failed = 0;
  const startWallMs = wallNow();
  for (let b = 0, done = 0; done < cmd.count; b++) {
    const n = Math.min(cmd.batchSize, cmd.count - done);
    const address = cmd.bindAddresses[b % cmd.bindAddresses.length] as string;
    const batch = await openDevices(cmd.firstIndex + done, n, address, cmd.target, currentSink);
    const r = await register(batch, cmd.loop, cmd.endpointPrefix, cmd.lifetimeS, cmd.retries);
    await closeDevices(batch);
    addCounters(counters, r.counters);
    parts.push(r.latenciesMs);
    registered += r.registered;
    failed += r.failed;
    done += n;
  }
  const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((pos, p) => (all.set(p, pos), pos + p.length), 0);
  return { kind: 'registered', counters, registered, failed, startWallMs, endWallMs: wallNow(), latenciesMs: all };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

const port = parentPort;
if (port === null) throw new Error('bench/load-generator must run as a worker thread');
port.on('message', (cmd: Command) => {
  handle(cmd).then(
    (reply) => {
      const transfer = 'latenciesMs' in reply ? [reply.latenciesMs.buffer] : [];
      port.postMessage(reply, transfer);
    },
    (err: unknown) => port.postMessage({ kind: 'error', message: errorStack(err) } satisfies Reply),
  );
});
