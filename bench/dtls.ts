/**
 * DTLS handshake benchmark (issue 5's targets on this machine: ≥ 2,000 PSK handshakes/s,
 * ≥ 300 ECDHE-ECDSA handshakes/s).
 *
 * The server (bench/dtls-echo-server.ts, the bridge's DTLS engine and transport) runs as its own
 * process; this process runs `--clients` concurrent scripted clients, PSK or ECDHE_ECDSA with raw
 * public keys both ways (`--mode psk|ecdhe`)
 * (test/support/dtls-psk-client.ts), each on its own UDP socket, each doing full handshakes one
 * after another (ClientHello, HelloVerifyRequest, ClientHello with cookie, flight 4, flight 5,
 * flight 6). A handshake that takes longer than 2 s counts as failed. Closed loop: the rate is
 * what the server (and the client side, on the same 2 cores) sustains.
 *
 *   npm run bench:dtls -- [--mode psk|ecdhe|both] [--seconds 10] [--warmup 3] [--clients 64] [--runs 3]
 *
 * Writes bench/results/dtls-handshakes-<time>.json; prints a summary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ScriptedPskClient } from '../test/support/dtls-psk-client';
import { benchKey } from './dtls-keys';
import { choiceFlag, positiveFlag } from './flags';
import { resultsDir } from './report';
import { median, SampleBuffer, summarize, type LatencySummary } from './stats';
import { errorStack } from '../src/common/error-message';

const TARGETS = { psk: 2000, ecdhe: 300 } as const;
type Mode = keyof typeof TARGETS;
const HANDSHAKE_TIMEOUT_MS = 2000;
const log = (s: string): void => void process.stderr.write(`bench dtls: ${s}\n`);

interface Params {
  readonly modes: readonly Mode[];
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly clients: number;
  readonly runs: number;
}

interface RunResult {
  readonly handshakes: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly latency: LatencySummary;
  /** Server CPU per handshake (user + system), µs. */
  readonly serverCpuUsPerHandshake: number;
}

function params(argv: readonly string[]): Params {
  const get = (name: string, def: number): number => positiveFlag(argv, name, def);
  const mode = choiceFlag(argv, 'mode', ['psk', 'ecdhe', 'both'], 'both');
  return {
    modes: mode === 'both' ? ['psk', 'ecdhe'] : [mode],
    seconds: get('seconds', 10),
    warmupSeconds: get('warmup', 3),
    clients: get('clients', 64),
    runs: get('runs', 3),
  };
}

async function startServer(): Promise<{
  child: ChildProcess;
  port: number;
  stats(): Promise<{ done: number; cpu: { user: number; system: number } }>;
}> {
  const child = spawn(process.execPath, [join(__dirname, 'dtls-echo-server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  const port = (JSON.parse(await next()) as { port: number }).port;
  return {
    child,
    port,
    async stats() {
      const line = next();
      child.kill('SIGUSR2');
      return JSON.parse(await line) as { done: number; cpu: { user: number; system: number } };
    },
  };
}

/** One client loop: full handshakes back to back on one socket until `until`. */
async function clientLoop(
  mode: Mode,
  index: number,
  port: number,
  until: () => boolean,
  record: (ms: number | undefined) => void,
): Promise<void> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const identity = `bench-${index}`;
  const key = benchKey(identity);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rpk = { privateKey, publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }) };
  let onMessage: (d: Buffer) => void = () => undefined;
  sock.on('message', (d) => onMessage(d));
  try {
    while (!until()) {
      const client = new ScriptedPskClient(
        mode === 'psk' ? { identity, key, suites: [0xc0a8] } : { identity, key, rpk },
      );
      const t0 = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), HANDSHAKE_TIMEOUT_MS);
        onMessage = (d) => {
          for (const out of client.drive(d)) sock.send(out, port, '127.0.0.1');
          if (!client.established) return;
          clearTimeout(timer);
          resolve(true);
        };
        sock.send(client.clientHello(), port, '127.0.0.1');
      });
      record(ok ? performance.now() - t0 : undefined);
    }
  } finally {
    onMessage = () => undefined;
    sock.close();
  }
}

async function oneRun(p: Params, mode: Mode): Promise<RunResult> {
  const server = await startServer();
  try {
    let measuring = false;
    let stop = false;
    let handshakes = 0;
    let failed = 0;
    const samples = new SampleBuffer();
    const record = (ms: number | undefined): void => {
      if (!measuring) return;
      if (ms === undefined) failed++;
      else {
        handshakes++;
        samples.push(ms);
      }
    };
    const loops = Array.from({ length: p.clients }, (_, i) => clientLoop(mode, i, server.port, () => stop, record));
    await new Promise((r) => setTimeout(r, p.warmupSeconds * 1000));
    const before = await server.stats();
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, p.seconds * 1000));
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const after = await server.stats();
    stop = true;
    await Promise.all(loops);
    const serverDone = after.done - before.done;
    const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
    return {
      handshakes,
      failed,
      perSecond: Math.round(handshakes / elapsed),
      latency: summarize(samples.toArray()),
      serverCpuUsPerHandshake: serverDone > 0 ? Math.round(cpuUs / serverDone) : Number.NaN,
    };
  } finally {
    server.child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const p = params(process.argv.slice(2));
  const byMode: Partial<
    Record<
      Mode,
      {
        readonly target: number;
        readonly medianPerSecond: number;
        readonly medianServerCpuUs: number;
        readonly runs: RunResult[];
      }
    >
  > = {};
  for (const mode of p.modes) {
    const runs: RunResult[] = [];
    for (let i = 0; i < p.runs; i++) {
      const r = await oneRun(p, mode);
      log(
        `${mode} run ${i + 1}: ${r.perSecond} handshakes/s (${r.handshakes} done, ${r.failed} failed), p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms, server CPU ${r.serverCpuUsPerHandshake} µs per handshake`,
      );
      runs.push(r);
    }
    byMode[mode] = {
      target: TARGETS[mode],
      medianPerSecond: median(runs.map((r) => r.perSecond)),
      medianServerCpuUs: median(runs.map((r) => r.serverCpuUsPerHandshake)),
      runs,
    };
  }
  const out = { bench: 'dtls-handshakes', at: new Date().toISOString(), params: p, modes: byMode };
  mkdirSync(resultsDir(), { recursive: true });
  const file = join(resultsDir(), `dtls-handshakes-${out.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  for (const [mode, m] of Object.entries(byMode)) {
    process.stdout.write(
      `DTLS ${mode} handshakes, ${p.runs} runs of ${p.seconds} s with ${p.clients} clients: median ${m.medianPerSecond}/s (target ≥ ${m.target}/s), server CPU ${m.medianServerCpuUs} µs per handshake\n`,
    );
  }
  process.stdout.write(`written to ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench dtls failed: ${errorStack(err)}\n`);
  process.exit(1);
});
