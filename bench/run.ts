/**
 * Benchmark entry point (`npm run bench`, or `node dist/bench/run.js --name=value ...`).
 *
 *   (a) registrations/s: `devices` devices (one UDP socket each) register with a bounded window;
 *   (b) Send/s: those devices POST /dp (SenML) in a closed loop for `durationS` after `warmupS`,
 *       `runs` times; the median run is the figure (the machine is shared and noisy);
 *   (c) heap per registered device at each of `heapLevels`, on fresh servers.
 *
 * The server is a child process (in-memory store, no bus) on loopback, port 0; the load runs in
 * worker threads. Results go to bench/results/<name>-<timestamp>.json and latest.json.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LoadGenerator } from './generator';
import { runHeap, type HeapResult } from './heap-phase';
import { parseParams, type BenchParams } from './params';
import { machineInfo } from './proc';
import { TARGET_REQUESTS_PER_SECOND, resultsDir, summary, writeResults, type BenchResults } from './report';
import { ServerProcess } from './server-process';
import { openDevices, registerAll, sendRuns } from './throughput-phase';
import { errorStack } from '../src/common/error-message';

const log = (s: string): void => void process.stdout.write(`${s}\n`);

async function main(): Promise<void> {
  const params = parseParams(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(
    `bench: ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, ulimit -n ${machine.openFilesLimit}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const profileDir = join(resultsDir(), 'profiles');
  if (params.profile) mkdirSync(profileDir, { recursive: true });
  const gen = LoadGenerator.start(params.workers);
  try {
    const { registration, send, server } = await throughput(params, gen, params.profile ? profileDir : undefined);
    let heap: HeapResult | undefined;
    if (!params.skipHeap && params.heapLevels.length > 0) {
      log(`(c) heap per device at ${params.heapLevels.join(', ')} devices`);
      heap = await runHeap(params, gen, log);
    }
    const results: BenchResults = {
      name: params.name,
      startedAt,
      finishedAt: new Date().toISOString(),
      target: {
        requestsPerSecond: TARGET_REQUESTS_PER_SECOND,
        statement:
          'at least 30,000 CoAP requests per second handled by one server process (in-memory store, no bus), load generator on the same 2-core machine',
        met: send.median.okPerSecond >= TARGET_REQUESTS_PER_SECOND,
      },
      machine,
      params,
      setup: [
        'server: node --expose-gc dist/src/main.js, COAP_HOST=127.0.0.1 COAP_PORT=0 HTTP_PORT=0 LOG_LEVEL=info DEBUG_ENDPOINTS=true, in-memory store, no bus',
        `load: ${params.workers} worker thread(s) in the bench process; one connected UDP socket per device; closed loop with at most ${params.window} CON requests outstanding in total and one per device; no retransmission`,
        'handled = 2.xx responses received inside the measured window; latency = request sent -> response received, for requests sent inside the window',
        'heap per device = (heapUsed after two forced GCs - the same before registering) / devices the server holds',
      ],
      registration,
      send,
      server,
      ...(heap ? { heap } : {}),
      ...(params.profile ? { profiles: profileDir } : {}),
    };
    const file = writeResults(results);
    log('');
    log(summary(results));
    log(`results: ${file}`);
  } finally {
    await gen.stop();
  }
}

/** Phases (a) and (b) on one fresh server, stopped afterwards (writing its CPU profile if asked). */
async function throughput(
  params: BenchParams,
  gen: LoadGenerator,
  profileDir: string | undefined,
): Promise<Pick<BenchResults, 'registration' | 'send' | 'server'>> {
  const server = await ServerProcess.start(
    profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {},
  );
  log(`server pid ${server.pid}: CoAP 127.0.0.1:${server.coapPort}, HTTP ${server.httpPort}`);
  try {
    await openDevices(params, gen, server);
    log(`(a) registering ${params.devices} devices, window ${params.window}`);
    const registration = await registerAll(params, gen, server);
    log(
      `  ${registration.registered} registered (server holds ${registration.serverCount}) in ${registration.elapsedS} s: ${registration.perSecond}/s, p50 ${registration.latency.p50Ms} ms, p99 ${registration.latency.p99Ms} ms`,
    );
    log(
      `(b) Send ${params.format}, ${params.runs} x ${params.durationS} s after ${params.warmupS} s warm-up, window ${params.window}`,
    );
    const send = await sendRuns(params, gen, server, log);
    const mem = server.rss();
    return {
      registration,
      send,
      server: {
        rssBytesAfterSend: mem?.rssBytes,
        peakRssBytes: mem?.peakBytes,
        logLines: server.logLines,
        warnings: server.warnings,
      },
    };
  } finally {
    await gen.all('closed', () => ({ kind: 'close' }));
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${errorStack(err)}\n`);
  process.exit(1);
});
