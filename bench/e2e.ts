/**
 * End-to-end benchmark (`npm run bench:e2e`, or `node dist/bench/e2e.js --name=value ...`):
 * simulated devices -> CoAP -> the bridge process (Redis store, Kafka bus, a profile) -> Kafka.
 *
 *   1. Redis and a Kafka broker start on free loopback ports (or REDIS_URL / KAFKA_BROKERS);
 *      the telemetry topic is created with LogAppendTime; a consumer process follows it.
 *   2. The bridge starts (unique topic and key prefixes; PROFILES_DIR + PROFILE_RULES map
 *      /3303/0/5700 to telemetry "temperature" and observe it, SINGLE); `devices` devices register
 *      and answer its Observe.
 *   3. Closed-loop runs of CON notifications (the throughput figure, median), then runs paced at
 *      the target rate (the latency figure), each read back from Kafka.
 *   4. Heap per idle registered device on fresh bridges (Redis mode), as bench/heap-phase.ts.
 * Results: bench/results/<name>-<timestamp>.json and latest-e2e.json. Every child process is
 * stopped at the end, on failure and on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { benchKey } from './dtls-keys';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumerProcess } from './e2e-consumer-client';
import { runE2eHeap, type E2eHeapResult } from './e2e-heap';
import { onAbort, startInfra, type Infra } from './e2e-infra';
import { extraBridgeEnv, parseE2eParams, type E2eParams } from './e2e-params';
import type { E2eCommand, E2eReply } from './e2e-protocol';
import { checkTargets, summaryE2e, writeE2eResults, type E2eResults } from './e2e-report';
import { childPids } from './e2e-sampler';
import { setupDevices, type SetupResult } from './e2e-setup';
import { notifyRuns, prime, type E2eRunSet } from './e2e-throughput';
import { machineInfo } from './proc';
import { resultsDir } from './report';
import { ServerProcess } from './server-process';
import { WorkerPool } from './worker-pool';
import { errorMessage, errorStack } from '../src/common/error-message';

const log = (s: string): void => void process.stdout.write(`${s}\n`);

interface ThroughputOutcome {
  readonly devices: SetupResult;
  readonly closedLoop?: E2eRunSet;
  readonly atTargetRate?: E2eRunSet;
  readonly bridge: { readonly logLines: number; readonly warnings: readonly string[] };
}

async function main(p: E2eParams): Promise<void> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(
    `bench e2e: ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, ulimit -n ${machine.openFilesLimit}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const infra = await startInfra(log, p.brokerHeap);
  const pool = new WorkerPool<E2eCommand, E2eReply>(join(__dirname, 'e2e-worker.js'), 1);
  const run = randomBytes(4).toString('hex');
  const profileDir = join(resultsDir(), 'profiles');
  let topic = '';
  try {
    log(`redis ${infra.redisUrl} (${infra.source.redis}), kafka ${infra.brokers.join(',')} (${infra.source.kafka})`);
    let outcome: ThroughputOutcome | undefined;
    let dtls: ThroughputOutcome | undefined;
    if (!p.skipThroughput) {
      const prefix = `bench-e2e-${run}.`;
      topic = await infra.createTelemetryTopic(prefix, p.partitions);
      await infra.prepareBridgeTopics(prefix);
      if (p.profile) mkdirSync(profileDir, { recursive: true });
      outcome = await throughput(
        p,
        infra,
        pool,
        prefix,
        topic,
        p.profile ? profileDir : undefined,
        p.security === 'psk',
      );
      if (p.security === 'compare') {
        // The same closed-loop runs with the devices over CoAPS, on a fresh bridge and topic.
        const dtlsPrefix = `bench-e2e-${run}-dtls.`;
        const dtlsTopic = await infra.createTelemetryTopic(dtlsPrefix, p.partitions);
        await infra.prepareBridgeTopics(dtlsPrefix);
        log('over DTLS (PSK): the same closed-loop runs');
        dtls = await throughput({ ...p, targetRuns: 0 }, infra, pool, dtlsPrefix, dtlsTopic, undefined, true);
      }
    }
    let heap: E2eHeapResult | undefined;
    if (!p.skipHeap && p.heapLevels.length > 0) {
      log(`heap per registered device at ${p.heapLevels.join(', ')} devices (Redis mode)`);
      heap = await runE2eHeap(
        p,
        pool,
        infra,
        (level) => infra.bridgeEnv(`bench-e2e-${run}-heap${level}.`, extraBridgeEnv(p)),
        log,
      );
    }
    const closed = outcome?.closedLoop;
    const paced = outcome?.atTargetRate;
    const runsAll = [...(closed?.runs ?? []), ...(paced?.runs ?? [])];
    const heapLevel = heap?.levels[heap.levels.length - 1];
    const results: E2eResults = {
      name: p.name,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      params: p,
      infra: {
        redis: infra.source.redis,
        kafka: infra.source.kafka,
        telemetryTopic: topic,
        partitions: p.partitions,
        bridgeEnv: infra.bridgeEnv(`bench-e2e-${run}.`, extraBridgeEnv(p)),
      },
      setup: [
        'bridge: node --expose-gc dist/src/main.js with REDIS_URL, KAFKA_BROKERS (defaults: linger 5 ms, gzip, acks=all, idempotent), a unique KAFKA_TOPIC_PREFIX and REDIS_KEY_PREFIX, PROFILES_DIR with one profile (observe /3303/0/5700 SINGLE, keyName temperature) and PROFILE_RULES e2e-* -> it',
        'Redis: redis-server without persistence; Kafka: one KRaft broker+controller (test/support), all on this machine, on loopback',
        `devices: one worker thread, one connected UDP socket per device; register (ct=${p.format === 'senml-json' ? 110 : 112} announced), answer the bridge's GET Observe=0 with 2.05 + Observe`,
        `before the runs: ${p.primeS} s of notifications, not measured (JIT, heaps and caches reach a steady state)`,
        `notifications: CON 2.05 with the observation's token and an increasing Observe number, ${p.format}, value = send time (ms since the run epoch); at most ${p.window} outstanding in the closed-loop runs and ${p.pacedWindow} in the paced runs, one per device; no retransmission`,
        `into Kafka = notification records whose broker append time (LogAppendTime topic) is in the measured window, read back by a kafkajs consumer in its own process (${p.liveConsumer ? 'live, during the runs' : 'paused during each run, reading once the window is over'})`,
        'latency = broker append time (ms resolution) - device send time, for notifications sent in the window; also consume time - send time, and the bridge histogram lwm2m_kafka_produce_seconds',
        'Redis commands per notification = lwm2m_redis_commands_total delta / lwm2m_events_total{type="notification"} delta over the window',
      ],
      targets: checkTargets(closed, paced, heap, p.targetRate),
      report: {
        redisCommandsPerNotification:
          closed?.median.redisCommandsPerNotification ?? paced?.median.redisCommandsPerNotification,
        bridgeRssBytes: maxOf(runsAll.map((r) => r.rssBytes.bridge)),
        bridgePeakRssBytes: maxOf(runsAll.map((r) => r.bridgePeakRssBytes)),
        heapBridgeRssBytes: heapLevel?.idle?.rssBytes ?? heapLevel?.fresh.rssBytes,
      },
      ...(outcome ? { devices: outcome.devices, bridge: outcome.bridge } : {}),
      ...(closed ? { closedLoop: closed } : {}),
      ...(paced ? { atTargetRate: paced } : {}),
      ...(heap ? { heap } : {}),
      ...(p.profile ? { profiles: profileDir } : {}),
      ...(dtls?.closedLoop !== undefined
        ? {
            dtls: {
              closedLoop: dtls.closedLoop,
              devices: dtls.devices,
              ...(closed !== undefined
                ? {
                    ratioToPlain:
                      Math.round(
                        (dtls.closedLoop.median.kafkaRecordsPerSecond / closed.median.kafkaRecordsPerSecond) * 1000,
                      ) / 1000,
                  }
                : {}),
            },
          }
        : {}),
    };
    const file = writeE2eResults(results);
    log('');
    log(summaryE2e(results));
    log(`results: ${file}`);
  } finally {
    await pool.stop();
    await infra.stop();
  }
}

async function throughput(
  p: E2eParams,
  infra: Infra,
  pool: WorkerPool<E2eCommand, E2eReply>,
  prefix: string,
  topic: string,
  profileDir: string | undefined,
  dtls = false,
): Promise<ThroughputOutcome> {
  const epochMs = Math.floor(performance.timeOrigin + performance.now());
  if (dtls) await provisionPsk(infra, prefix, p.devices);
  const consumer = await ConsumerProcess.start(infra.brokers, topic, `bench-e2e-${prefix}`, epochMs);
  const releaseConsumer = onAbort(() => consumer.kill());
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = await ServerProcess.start({ env: infra.bridgeEnv(prefix, extraBridgeEnv(p)), nodeArgs }).catch(
    async (err: unknown) => {
      await consumer.stop();
      throw err;
    },
  );
  const releaseServer = onAbort(() => server.killNow());
  try {
    await server.waitReady(60_000);
    log(`bridge pid ${server.pid}: CoAP 127.0.0.1:${server.coapPort}, HTTP ${server.httpPort}; topic ${topic}`);
    const pids = {
      bridge: server.pid,
      kafka: childPids('java')[0],
      redis: childPids('redis-server')[0],
      consumer: consumer.pid,
    };
    const devices = await setupDevices(p, pool, server, log, dtls);
    const ctx = { p, pool, server, consumer, infra, topic, pids, epochMs, log };
    log(`priming: ${p.primeS} s of notifications, not measured`);
    await prime(ctx);
    log(`closed loop: ${p.runs} x ${p.durationS} s after ${p.warmupS} s warm-up, window ${p.window}, ${p.format}`);
    const closedLoop = p.runs > 0 ? await notifyRuns(ctx, 0, p.runs, 'closed') : undefined;
    log(`paced at ${p.targetRate}/s: ${p.targetRuns} runs`);
    const atTargetRate = p.targetRuns > 0 ? await notifyRuns(ctx, p.targetRate, p.targetRuns, 'paced') : undefined;
    return {
      devices,
      ...(closedLoop ? { closedLoop } : {}),
      ...(atTargetRate ? { atTargetRate } : {}),
      bridge: { logLines: server.logLines, warnings: server.warnings },
    };
  } finally {
    await pool.all('closed', () => ({ kind: 'close' })).catch(() => undefined);
    await server.stop();
    releaseServer();
    await consumer.stop();
    releaseConsumer();
  }
}

/** PSK credentials for devices e2e-0 … e2e-(n-1) on the compacted devices topic, before the bridge starts. */
async function provisionPsk(infra: Infra, prefix: string, devices: number): Promise<void> {
  const producer = new Kafka({
    clientId: 'bench-e2e-provisioning',
    brokers: [...infra.brokers],
    logLevel: logLevel.ERROR,
  }).producer();
  await producer.connect();
  try {
    for (let i = 0; i < devices; i += 1000) {
      const messages = Array.from({ length: Math.min(1000, devices - i) }, (_, k) => {
        const endpoint = `e2e-${i + k}`;
        return {
          key: endpoint,
          value: JSON.stringify({
            endpoint,
            credentials: { mode: 'psk', identity: endpoint, key: benchKey(endpoint).toString('hex') },
          }),
        };
      });
      await producer.send({ topic: `${prefix}devices`, messages });
    }
  } finally {
    await producer.disconnect();
  }
  log(`  ${devices} PSK credentials provisioned on ${prefix}devices`);
}

function maxOf(xs: ReadonlyArray<number | undefined>): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length === 0 ? undefined : Math.max(...v);
}

/** A bound on the whole run, generous: past it the bench exits, and its exit handlers kill every child. */
function timeBoundMs(p: E2eParams): number {
  const perRun = p.primeS / 2 + p.quietWaitS + p.warmupS + p.durationS + p.pauseS + p.drainTimeoutS + 90;
  const heap = p.skipHeap ? 0 : p.heapLevels.length * 900 + (p.idle ? 300 : 0);
  return (900 + 2 * p.observeTimeoutS + (p.runs + p.targetRuns) * perRun + heap) * 1000;
}

const params = ((): E2eParams => {
  try {
    return parseE2eParams(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return process.exit(2);
  }
})();
setTimeout(() => {
  process.stderr.write('bench e2e: time bound exceeded, stopping\n');
  process.exit(3);
}, timeBoundMs(params)).unref();
main(params).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench e2e failed: ${errorStack(err)}\n`);
    process.exit(1);
  },
);
