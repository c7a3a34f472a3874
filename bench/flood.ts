/**
 * Flood benchmark (`npm run bench:flood`, or `node dist/bench/flood.js --name=value ...`): the
 * end-to-end machinery of bench/e2e.ts (devices -> the bridge process -> real Redis + Kafka, read
 * back from Kafka), with `devices` well-behaved devices notifying in a closed loop (or paced with
 * --rate) while 10 sources flood (bench/flood-worker.ts: 4 random-bytes, 3 valid-looking CoAP
 * request, 3 DTLS ClientHello sources, each on its own loopback address at `floodRate`/s).
 * Runs alternate without and with the flood (`runs` of each, interleaved); the figures are the
 * medians of each. The well-behaved devices are spread over `deviceAddresses` loopback addresses,
 * as devices behind NATs: the per-source limit applies to them too. The bridge runs with the
 * production defaults of the limits unless --bridgeEnv says otherwise (README "Configuration").
 * Target (DESIGN): with the flood, throughput drops by at most 10 % and p99 stays within 2x.
 * Results: bench/results/<name>-<timestamp>.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConsumerProcess } from './e2e-consumer-client';
import { onAbort, startInfra, type Infra } from './e2e-infra';
import { E2E_DEFAULTS, extraBridgeEnv, type E2eParams } from './e2e-params';
import type { E2eCommand, E2eReply } from './e2e-protocol';
import { childPids, parseMetrics } from './e2e-sampler';
import { setupDevices } from './e2e-setup';
import { notifyRuns, prime, type E2eRun } from './e2e-throughput';
import type { FloodCommand, FloodKind, FloodReply } from './flood-worker';
import { parseArgs } from './params';
import { machineInfo } from './proc';
import { resultsDir } from './report';
import { SERVER_HOST, ServerProcess } from './server-process';
import { median, round3 } from './stats';
import { WorkerPool } from './worker-pool';
import { errorMessage, errorStack } from '../src/common/error-message';

const log = (s: string): void => void process.stdout.write(`${s}\n`);

interface FloodParams extends E2eParams {
  /** Datagrams per second of each of the 10 flooding sources. */
  readonly floodRate: number;
  /** Loopback addresses the well-behaved devices are spread over. */
  readonly deviceAddresses: number;
  /** Notifications per second of the well-behaved devices in all; 0: closed loop. */
  readonly rate: number;
  /** Only the flood's own cost: no devices, the flood alone by kind of source, then all together. */
  readonly costOnly: boolean;
  /** With --costOnly, the kinds of source measured one by one (comma-separated). */
  readonly kinds: string;
}

const DEFAULTS: FloodParams = {
  ...E2E_DEFAULTS,
  name: 'flood',
  devices: 2000,
  runs: 3,
  targetRuns: 0,
  primeS: 10,
  skipHeap: true,
  quietWaitS: 10,
  floodRate: 1000,
  deviceAddresses: 200,
  rate: 0,
  costOnly: false,
  kinds: 'random,coap,dtls',
};

/** The production defaults of the limits: ServerProcess turns the per-source ones off for the other benches. */
const LIMIT_DEFAULTS = {
  RATE_LIMIT_SOURCE_PER_S: '200',
  RATE_LIMIT_HANDSHAKE_PER_S: '50',
  RATE_LIMIT_SOURCE_REQUESTS_PER_S: '50',
};

const SOURCES: ReadonlyArray<{ address: string; kind: FloodKind }> = Array.from({ length: 10 }, (_, i) => ({
  address: `127.0.2.${i + 1}`,
  kind: i < 4 ? 'random' : i < 7 ? 'coap' : 'dtls',
}));

interface Measured {
  readonly mode: 'quiet' | 'flood';
  readonly kafkaRecordsPerSecond: number;
  readonly notificationsAckedPerSecond: number;
  readonly sendToAppendP99Ms: number;
  readonly sendToAckP99Ms: number;
  readonly timeouts: number;
  readonly bridgeCpuPercent: number | undefined;
  readonly bridgeCpuMicrosPerNotification: number | undefined;
  readonly generatorCpuPercent: number;
  readonly flood?: { readonly sent: Record<FloodKind, number>; readonly answered: Record<FloodKind, number> };
  readonly limited: Record<string, number>;
}

class FloodThread {
  private readonly worker = new Worker(join(__dirname, 'flood-worker.js'));
  call(cmd: FloodCommand): Promise<FloodReply> {
    return new Promise((resolve, reject) => {
      this.worker.once('message', (r: FloodReply) =>
        r.kind === 'error' ? reject(new Error(`flood worker: ${r.message}`)) : resolve(r),
      );
      this.worker.once('error', reject);
      this.worker.postMessage(cmd);
    });
  }
  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

function limitedCounts(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of parseMetrics(metrics)) {
    const m = /^lwm2m_limited_total\{reason="([a-z-]+)"\}$/.exec(k);
    if (m !== null) out[m[1] as string] = v;
  }
  return out;
}

const diff = (a: Record<string, number>, b: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

function measured(
  mode: Measured['mode'],
  r: E2eRun,
  limited: Record<string, number>,
  flood?: Measured['flood'],
): Measured {
  return {
    mode,
    kafkaRecordsPerSecond: r.kafkaRecordsPerSecond,
    notificationsAckedPerSecond: r.notificationsAckedPerSecond,
    sendToAppendP99Ms: r.latency.sendToAppend.p99Ms,
    sendToAckP99Ms: r.latency.sendToAck.p99Ms,
    timeouts: r.counters.timeouts,
    bridgeCpuPercent: r.cpu.bridge,
    bridgeCpuMicrosPerNotification: r.bridgeCpuMicrosPerNotification,
    generatorCpuPercent: r.cpu.generator,
    ...(flood !== undefined ? { flood } : {}),
    limited,
  };
}

async function main(p: FloodParams): Promise<void> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(
    `bench flood: ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const infra = await startInfra(log, p.brokerHeap);
  const pool = new WorkerPool<E2eCommand, E2eReply>(join(__dirname, 'e2e-worker.js'), 1);
  const flood = new FloodThread();
  const prefix = `bench-flood-${randomBytes(4).toString('hex')}.`;
  try {
    const topic = await infra.createTelemetryTopic(prefix, p.partitions);
    await infra.prepareBridgeTopics(prefix);
    const bridgeEnv = infra.bridgeEnv(prefix, { ...LIMIT_DEFAULTS, ...extraBridgeEnv(p) });
    const runs = await measure(p, infra, pool, flood, topic, bridgeEnv);
    const med = (mode: Measured['mode'], f: (m: Measured) => number | undefined): number =>
      round3(median(runs.filter((m) => m.mode === mode).map((m) => f(m) ?? Number.NaN)));
    const summary = (mode: Measured['mode']) => ({
      kafkaRecordsPerSecond: med(mode, (m) => m.kafkaRecordsPerSecond),
      sendToAppendP99Ms: med(mode, (m) => m.sendToAppendP99Ms),
      sendToAckP99Ms: med(mode, (m) => m.sendToAckP99Ms),
      bridgeCpuMicrosPerNotification: med(mode, (m) => m.bridgeCpuMicrosPerNotification),
    });
    const quiet = summary('quiet');
    const flooded = summary('flood');
    const throughputDrop = round3(1 - flooded.kafkaRecordsPerSecond / quiet.kafkaRecordsPerSecond);
    const p99Ratio = round3(flooded.sendToAppendP99Ms / quiet.sendToAppendP99Ms);
    const results = {
      name: p.name,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      params: p,
      bridgeEnv,
      sources: SOURCES,
      setup: [
        'bench/e2e machinery: the bridge process (dist/src/main.js) on real Redis and Kafka, a profile observing /3303/0/5700, notifications read back from Kafka (LogAppendTime)',
        `well-behaved: ${p.devices} devices over ${p.deviceAddresses} loopback addresses (127.0.1.x), CON notifications, ${p.rate > 0 ? `paced at ${p.rate}/s` : `closed loop, window ${p.window}`}`,
        `flood: 10 sources (127.0.2.1-10) at ${p.floodRate} datagrams/s each from a worker thread of the bench: 4 random bytes, 3 valid-looking CoAP requests (Register of a made-up endpoint, Update of a made-up registration, GET of a made-up path), 3 DTLS ClientHellos (8 ports each, the cookie echoed when a HelloVerifyRequest came)`,
        `runs alternate quiet / flood, ${p.runs} of each, ${p.warmupS} s warm-up + ${p.durationS} s measured; figures are medians`,
      ],
      runs,
      median: { quiet, flood: flooded },
      floodAlone: floodOnly,
      floodAloneByKind: costByKind,
      /** The flood's CPU (alone, above rest) as a share of the bridge's CPU in the quiet runs (median): the capacity it takes, noise aside. */
      floodShareOfQuietBridgeCpu:
        floodOnly === undefined
          ? undefined
          : round3((floodOnly.floodCpuPercent - floodOnly.restCpuPercent) / med('quiet', (m) => m.bridgeCpuPercent)),
      throughputDrop,
      p99Ratio,
      targets: {
        throughputDropAtMost: 0.1,
        throughputMet: throughputDrop <= 0.1,
        p99RatioAtMost: 2,
        p99Met: p99Ratio <= 2,
      },
    };
    const dir = resultsDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${p.name}-${startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log('');
    log(
      `quiet: ${quiet.kafkaRecordsPerSecond}/s, p99 ${quiet.sendToAppendP99Ms} ms; flood: ${flooded.kafkaRecordsPerSecond}/s, p99 ${flooded.sendToAppendP99Ms} ms; ` +
        `throughput drop ${(throughputDrop * 100).toFixed(1)} % (target ≤ 10 %), p99 x${p99Ratio} (target ≤ 2)`,
    );
    log(`results: ${file}`);
  } finally {
    await flood.stop();
    await pool.stop();
    await infra.stop();
  }
}

/** The flood's own cost, steadier than throughput on a shared machine: the bridge's CPU with the flood alone (no devices notifying) minus its CPU at rest, per flood datagram. */
interface FloodAlone {
  readonly seconds: number;
  readonly restCpuPercent: number;
  readonly floodCpuPercent: number;
  readonly floodDatagramsPerSecond: number;
  readonly bridgeMicrosPerFloodDatagram: number;
  readonly limited: Record<string, number>;
}
let floodOnly: FloodAlone | undefined;
const costByKind: Partial<Record<FloodKind, FloodAlone>> = {};

async function cpuOver(server: ServerProcess, seconds: number): Promise<number> {
  const total = (): number => {
    const c = server.cpuSeconds();
    return c === undefined ? Number.NaN : c.user + c.system;
  };
  const a = total();
  await new Promise((res) => setTimeout(res, seconds * 1000));
  return round3(((total() - a) / seconds) * 100);
}

async function floodAlone(
  p: FloodParams,
  server: ServerProcess,
  flood: FloodThread,
  sources: typeof SOURCES = SOURCES,
): Promise<FloodAlone> {
  const seconds = p.durationS;
  const restCpuPercent = await cpuOver(server, seconds);
  const before = limitedCounts(await server.metricsText());
  await flood.call({
    kind: 'start',
    host: SERVER_HOST,
    coapPort: server.coapPort,
    coapsPort: server.coapsPort ?? server.coapPort,
    ratePerSource: p.floodRate,
    sources,
  });
  await new Promise((res) => setTimeout(res, 2000));
  const floodCpuPercent = await cpuOver(server, seconds);
  const stopped = await flood.call({ kind: 'stop' });
  const limited = diff(before, limitedCounts(await server.metricsText()));
  const sent = stopped.kind === 'stopped' ? Object.values(stopped.counts.sent).reduce((a, b) => a + b, 0) : 0;
  const perSecond = stopped.kind === 'stopped' ? sent / stopped.elapsedS : Number.NaN;
  const result = {
    seconds,
    restCpuPercent,
    floodCpuPercent,
    floodDatagramsPerSecond: Math.round(perSecond),
    bridgeMicrosPerFloodDatagram: round3(((floodCpuPercent - restCpuPercent) * 1e4) / perSecond),
    limited,
  };
  log(`  flood alone: ${JSON.stringify(result)}`);
  return result;
}

async function measure(
  p: FloodParams,
  infra: Infra,
  pool: WorkerPool<E2eCommand, E2eReply>,
  flood: FloodThread,
  topic: string,
  bridgeEnv: Record<string, string>,
): Promise<Measured[]> {
  const epochMs = Math.floor(performance.timeOrigin + performance.now());
  const consumer = await ConsumerProcess.start(infra.brokers, topic, `bench-flood-${topic}`, epochMs);
  const releaseConsumer = onAbort(() => consumer.kill());
  const server = await ServerProcess.start({ env: bridgeEnv, nodeArgs: p.profile ? profileArgs() : [] });
  const releaseServer = onAbort(() => server.killNow());
  try {
    await server.waitReady(60_000);
    log(`bridge pid ${server.pid}: CoAP ${server.coapPort}, CoAPS ${server.coapsPort ?? '-'}, HTTP ${server.httpPort}`);
    if (p.costOnly) {
      const kinds = p.kinds.split(',') as FloodKind[];
      for (const kind of kinds)
        costByKind[kind] = await floodAlone(
          p,
          server,
          flood,
          SOURCES.filter((s) => s.kind === kind),
        );
      if (kinds.length > 1) floodOnly = await floodAlone(p, server, flood);
      return [];
    }
    const pids = {
      bridge: server.pid,
      kafka: childPids('java')[0],
      redis: childPids('redis-server')[0],
      consumer: consumer.pid,
    };
    const addresses = Array.from({ length: p.deviceAddresses }, (_, i) => `127.0.1.${i + 1}`);
    await setupDevices(p, pool, server, log, false, addresses);
    const ctx = { p, pool, server, consumer, infra, topic, pids, epochMs, log };
    log(`priming: ${p.primeS} s of notifications, not measured`);
    await prime(ctx);
    const out: Measured[] = [];
    for (let run = 1; run <= p.runs; run++) {
      for (const mode of ['quiet', 'flood'] as const) {
        const before = limitedCounts(await server.metricsText());
        let floodCounts: Measured['flood'];
        if (mode === 'flood') {
          await flood.call({
            kind: 'start',
            host: SERVER_HOST,
            coapPort: server.coapPort,
            coapsPort: server.coapsPort ?? server.coapPort,
            ratePerSource: p.floodRate,
            sources: SOURCES,
          });
        }
        const set = await notifyRuns(
          { ...ctx, p: { ...p, quietWaitS: mode === 'flood' ? 0 : p.quietWaitS } },
          p.rate,
          1,
          `${mode} ${run}`,
        );
        if (mode === 'flood') {
          const stopped = await flood.call({ kind: 'stop' });
          if (stopped.kind === 'stopped') floodCounts = stopped.counts;
          log(
            `    flood: sent ${JSON.stringify(floodCounts?.sent)}, answered ${JSON.stringify(floodCounts?.answered)}`,
          );
        }
        const limited = diff(before, limitedCounts(await server.metricsText()));
        log(`    limited: ${JSON.stringify(limited)}`);
        out.push(measured(mode, set.runs[0] as E2eRun, limited, floodCounts));
        await new Promise((res) => setTimeout(res, p.pauseS * 1000));
      }
    }
    floodOnly = await floodAlone(p, server, flood);
    return out;
  } finally {
    await pool.all('closed', () => ({ kind: 'close' })).catch(() => undefined);
    await server.stop();
    releaseServer();
    await consumer.stop();
    releaseConsumer();
  }
}

function profileArgs(): string[] {
  const dir = join(resultsDir(), 'profiles');
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

const params = ((): FloodParams => {
  try {
    const p = parseArgs(DEFAULTS, process.argv.slice(2));
    extraBridgeEnv(p);
    if (p.deviceAddresses > 250) throw new Error('--deviceAddresses: at most 250');
    return p;
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return process.exit(2);
  }
})();
setTimeout(
  () => {
    process.stderr.write('bench flood: time bound exceeded, stopping\n');
    process.exit(3);
  },
  (900 + params.runs * 2 * (params.warmupS + params.durationS + params.quietWaitS + 120)) * 1000,
).unref();
main(params).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench flood failed: ${errorStack(err)}\n`);
    process.exit(1);
  },
);
