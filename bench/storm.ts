/**
 * Registration storm (`npm run bench:storm`, or `node dist/bench/storm.js --name=value ...`): after an
 * outage a whole fleet registers again at once, and each registration under a profile triggers
 * setup requests (src/profile/registration-flow.ts → device-setup.ts).
 *
 *   1. Redis and a Kafka broker start (bench/e2e-infra.ts); the storm profile reads /3/0/0 and
 *      /3303/0/5700 (Read-Composite: the devices are LwM2M 1.1), writes pmin/pmax on /3303/0/5700
 *      and observes it: 3 setup requests per device.
 *   2. The floor: `floorRuns` storms against a minimal UDP responder (bench/storm-floor.ts), its
 *      CPU per request measured in this session (the target assumes ~40 µs).
 *   3. `runs` storms against a fresh bridge each (fresh key and topic prefixes): every device of
 *      `processes` device processes (bench/storm-devices.ts) sends its Register at the same moment
 *      and answers the setup requests. With `--compare=<other main.js>` each run also storms that
 *      build, interleaved (A B, B A, ...), for before/after figures from the same session.
 * Results: bench/results/<name>-<timestamp>.json (medians and every run).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { errorMessage, errorStack } from '../src/common/error-message';
import { onAbort, startInfra, type Infra } from './e2e-infra';
import { parseArgs } from './params';
import { childPids } from './e2e-sampler';
import { cpuSeconds, machineInfo } from './proc';
import { resultsDir } from './report';
import { SERVER_HOST, ServerProcess } from './server-process';
import { median } from './stats';
import { type StormCommand, type StormReply, type StormReplyAny } from './storm-protocol';
import type { Target } from './protocol';

const log = (s: string): void => void process.stdout.write(`${s}\n`);
const wallNow = (): number => performance.timeOrigin + performance.now();

const DEFAULTS = {
  name: 'registration-storm',
  devices: 20_000,
  /** Device processes (each holds devices/processes sockets; ulimit -n is per process). */
  processes: 2,
  runs: 3,
  floorRuns: 3,
  /** Registers outstanding at most (0: every device at once, the storm); e.g. 2000 gives the rate without receive-buffer drops. */
  window: 0,
  /** The device answers each setup request after this delay (0: at once). */
  answerDelayMs: 0,
  timeoutS: 180,
  lifetimeS: 86_400,
  /** The bridge build stormed as variant "this" (default: this build's dist/src/main.js). */
  main: '',
  /** Another build's dist/src/main.js, stormed in the same runs (interleaved) for a before/after comparison. */
  compare: '',
  /** Extra bridge environment as JSON, e.g. '{"PROFILE_SETUP_CONCURRENCY":"256"}'. */
  bridgeEnv: '',
  /** Extra bridge environment of the compare variant (default: the same as --bridgeEnv); with no --compare build, the compare variant is this build. */
  compareEnv: '',
  /** Run the bridge with --cpu-prof; profiles go to bench/results/profiles. */
  profile: false,
  brokerHeap: '512m',
};
type StormParams = typeof DEFAULTS;

const PROFILE_NAME = 'bench-storm';
/** Read-Composite of /3/0/0 and /3303/0/5700, Write-Attributes on /3303/0/5700, Observe it: 3 requests per device. */
const STORM_PROFILE = {
  name: PROFILE_NAME,
  updatedAt: '2026-12-08T00:00:00Z',
  unmappedPaths: 'drop',
  observeAttr: {
    keyName: { '/3/0/0': 'manufacturer', '/3303/0/5700': 'temperature' },
    attribute: ['/3/0/0'],
    telemetry: ['/3303/0/5700'],
    observe: ['/3303/0/5700'],
    attributeLwm2m: { '/3303/0/5700': { pmin: 10, pmax: 300 } },
    observeStrategy: 'SINGLE',
  },
} as const;
const SETUP_REQUESTS_PER_DEVICE = 3;
/** Requests outstanding in the closed-loop floor runs (bench/params.ts window). */
const FLOOR_WINDOW = 64;
const FAILURE_EVENTS = ['read-failed', 'write-attributes-failed', 'observe-failed', 'capability-fallback'];

interface StormRun {
  readonly variant: string;
  readonly devices: number;
  readonly registered: number;
  readonly registrationsPerSecond: number;
  /** First Register sent → last 2.01 received. */
  readonly registerPhaseS: number;
  /** First Register sent → the last device answered its last setup request. */
  readonly lastSetupAnsweredS: number | null;
  /** First Register sent → the bridge counted `devices` profile-applied events (polled every 200 ms). */
  readonly allProfileAppliedS: number | null;
  readonly profileApplied: number;
  readonly setupRequests: Record<string, number>;
  /** Setup operations the bridge reported failed (events by type; TIMEOUT among them). */
  readonly setupFailures: Record<string, number>;
  /** CoAP requests of the bridge that timed out (lwm2m_coap_timeouts_total delta). */
  readonly bridgeCoapTimeouts: number;
  /** The bridge's own count (lwm2m_profile_setup_requests_outstanding_max; 0 when the build lacks it). */
  readonly bridgeMaxOutstandingSetupRequests: number;
  /** Redis commands the bridge sent during the storm (lwm2m_redis_commands_total delta) / devices. */
  readonly redisCommandsPerDevice: number;
  readonly retransmittedSetupRequests: number;
  readonly registerRetransmissions: number;
  /** Datagrams the kernel dropped for a full receive buffer during the storm (/proc/net/snmp Udp RcvbufErrors, whole machine). */
  readonly udpReceiveBufferDrops: number | null;
  readonly registerErrors: Record<string, number>;
  /**
   * The most setup requests the devices held unanswered at one sampling instant, summed over the
   * device processes (sampled every 10 ms in each; timer skew between processes can count a slot
   * twice, so an estimate). Exact: maxOutstandingByProcess, and the bridge's own gauge.
   */
  readonly maxOutstandingSetupRequests: number;
  readonly maxOutstandingByProcess: readonly number[];
  readonly maxOutstandingPerDevice: number;
  readonly devicesOverNstart: number;
  readonly devicesWithRequestBefore201: number;
  readonly bridgeCpuS: number;
  /** CPU seconds of Redis, Kafka and the device processes during the storm (the machine has few cores: they compete with the bridge). */
  readonly otherCpuS: { readonly redis: number; readonly kafka: number; readonly devices: number };
  readonly bridgeCpuMicrosPerRegistration: number;
  readonly bridgeLogLines: number;
  readonly bridgeWarnings: readonly string[];
}

/** A device process: one command at a time, one reply each. */
class DeviceProcess {
  private waiting: ((r: StormReplyAny | Error) => void) | undefined;
  private constructor(readonly child: ChildProcess) {
    child.on('message', (r: StormReplyAny) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.(r);
    });
    child.on('exit', (code) => this.waiting?.(new Error(`device process exited with code ${code}`)));
  }

  static start(): DeviceProcess {
    return new DeviceProcess(fork(join(__dirname, 'storm-devices.js'), [], { serialization: 'advanced' }));
  }

  call<K extends StormReplyAny['kind']>(cmd: StormCommand, kind: K): Promise<Extract<StormReplyAny, { kind: K }>> {
    return new Promise((resolve, reject) => {
      this.waiting = (r) => {
        if (r instanceof Error) reject(r);
        else if (r.kind === 'error') reject(new Error(`device process: ${r.message}`));
        else if (r.kind !== kind) reject(new Error(`device process answered ${r.kind}, expected ${kind}`));
        else resolve(r as Extract<StormReplyAny, { kind: K }>);
      };
      this.child.send(cmd);
    });
  }
}

async function stormOnce(
  p: StormParams,
  procs: readonly DeviceProcess[],
  target: Target,
  endpointPrefix: string,
  expected: number,
  window = Number.MAX_SAFE_INTEGER,
): Promise<StormReply[]> {
  const per = Math.ceil(p.devices / procs.length);
  await Promise.all(
    procs.map((d, i) =>
      d.call(
        {
          kind: 'open',
          target,
          // Each device binds its own loopback address (127.(10+i).x.y): its own source, as in a real fleet.
          net: 10 + i,
          firstIndex: i * per,
          count: Math.min(per, p.devices - i * per),
          endpointPrefix,
          lifetimeS: p.lifetimeS,
        },
        'opened',
      ),
    ),
  );
  const startAtMs = wallNow() + 300;
  try {
    return await Promise.all(
      procs.map((d) =>
        d.call(
          {
            kind: 'storm',
            startAtMs,
            deadlineMs: startAtMs + p.timeoutS * 1000,
            expectedSetupRequests: expected,
            answerDelayMs: p.answerDelayMs,
            window: Math.ceil(window / procs.length),
          },
          'stormed',
        ),
      ),
    );
  } finally {
    await Promise.all(procs.map((d) => d.call({ kind: 'close' }, 'closed')));
  }
}

/** The floor: the same storm against a minimal responder; its CPU per request. */
async function floorRun(p: StormParams, procs: readonly DeviceProcess[], window: number): Promise<number> {
  const child = spawn(process.execPath, [join(__dirname, 'storm-floor.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const release = onAbort(() => child.kill('SIGKILL'));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`floor responder exited with ${code}`)));
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (l) =>
        resolve((JSON.parse(l) as { port: number }).port),
      );
    });
    const pid = child.pid as number;
    const before = cpuSeconds(pid);
    const replies = await stormOnce({ ...p, timeoutS: 60 }, procs, { address: SERVER_HOST, port }, 'floor-', 0, window);
    const after = cpuSeconds(pid);
    const answered = replies.reduce((s, r) => s + r.createdAtMs.filter((t) => t >= 0).length, 0);
    const retrans = replies.reduce((s, r) => s + r.registerRetransmissions, 0);
    if (before === undefined || after === undefined || answered === 0) throw new Error('floor: no CPU figure');
    const cpu = after.user + after.system - before.user - before.system;
    return Math.round((cpu / (answered + retrans)) * 1e7) / 10;
  } finally {
    child.kill('SIGTERM');
    release();
  }
}

async function bridgeRun(
  p: StormParams,
  infra: Infra,
  procs: readonly DeviceProcess[],
  variant: string,
  mainJs: string | undefined,
  envJson: string,
  prefix: string,
  profileDir: string | undefined,
): Promise<StormRun> {
  await infra.prepareBridgeTopics(prefix);
  await infra.admin.createTopics({
    waitForLeaders: true,
    topics: ['telemetry', 'attributes', 'events'].map((t) => ({ topic: `${prefix}${t}`, numPartitions: 1 })),
  });
  const env = infra.bridgeEnv(prefix, {
    PROFILE_RULES: JSON.stringify([{ pattern: 'storm-*', profile: PROFILE_NAME }]),
    ...extraEnv(envJson),
  });
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = await ServerProcess.start({ env, nodeArgs, ...(mainJs ? { mainJs } : {}) });
  const release = onAbort(() => server.killNow());
  try {
    await server.waitReady(60_000);
    const m0 = await server.metricsText();
    const cpu0 = server.cpuSeconds();
    const drops0 = udpReceiveBufferErrors();
    const others = {
      redis: childPids('redis-server')[0],
      kafka: childPids('java')[0],
      devices: procs.map((d) => d.child.pid as number),
    };
    const othersCpu0 = cpuOf(others);
    let appliedAt: number | null = null;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await sleep(200);
        const applied = labelled(await server.metricsText(), 'lwm2m_profile_events_total', 'profile-applied');
        if (applied >= p.devices && appliedAt === null) appliedAt = wallNow();
        if (appliedAt !== null) return;
      }
    })();
    const replies = await stormOnce(
      p,
      procs,
      { address: SERVER_HOST, port: server.coapPort },
      'storm-',
      SETUP_REQUESTS_PER_DEVICE,
      p.window === 0 ? p.devices : p.window,
    );
    const until = wallNow() + 30_000;
    while (appliedAt === null && wallNow() < until) await sleep(100);
    polling = false;
    await poller;
    const cpu1 = server.cpuSeconds();
    const drops1 = udpReceiveBufferErrors();
    const othersCpu1 = cpuOf(others);
    const m1 = await server.metricsText();
    const first = Math.min(...replies.map((r) => r.firstRegisterAtMs));
    const created = replies.flatMap((r) => [...r.createdAtMs].filter((t) => t >= 0));
    const setUp = replies.flatMap((r) => [...r.setUpAtMs]);
    const registered = created.length;
    const lastCreated = Math.max(...created);
    const buckets = sumBuckets(replies.map((r) => r.outstandingByBucket));
    const cpuS = cpu0 && cpu1 ? cpu1.user + cpu1.system - cpu0.user - cpu0.system : Number.NaN;
    const failures: Record<string, number> = {};
    for (const t of FAILURE_EVENTS) {
      const n = labelled(m1, 'lwm2m_profile_events_total', t) - labelled(m0, 'lwm2m_profile_events_total', t);
      if (n > 0) failures[t] = n;
    }
    return {
      variant,
      devices: p.devices,
      registered,
      registrationsPerSecond: Math.round(registered / ((lastCreated - first) / 1000)),
      registerPhaseS: round(lastCreated - first) / 1000,
      lastSetupAnsweredS: setUp.every((t) => t >= 0) ? round(Math.max(...setUp) - first) / 1000 : null,
      allProfileAppliedS: appliedAt === null ? null : round(appliedAt - first) / 1000,
      profileApplied: labelled(m1, 'lwm2m_profile_events_total', 'profile-applied'),
      setupRequests: sumRecords(replies.map((r) => r.requests)),
      setupFailures: failures,
      bridgeCoapTimeouts: plain(m1, 'lwm2m_coap_timeouts_total') - plain(m0, 'lwm2m_coap_timeouts_total'),
      bridgeMaxOutstandingSetupRequests: plain(m1, 'lwm2m_profile_setup_requests_outstanding_max'),
      redisCommandsPerDevice:
        round(((plain(m1, 'lwm2m_redis_commands_total') - plain(m0, 'lwm2m_redis_commands_total')) / p.devices) * 100) /
        100,
      retransmittedSetupRequests: replies.reduce((s, r) => s + r.retransmittedRequests, 0),
      registerRetransmissions: replies.reduce((s, r) => s + r.registerRetransmissions, 0),
      udpReceiveBufferDrops: drops0 === undefined || drops1 === undefined ? null : drops1 - drops0,
      registerErrors: sumRecords(replies.map((r) => r.registerErrors)),
      maxOutstandingSetupRequests: Math.max(0, ...buckets),
      maxOutstandingByProcess: replies.map((r) => r.maxOutstanding),
      maxOutstandingPerDevice: Math.max(...replies.map((r) => r.maxOutstandingPerDevice)),
      devicesOverNstart: replies.reduce((s, r) => s + r.devicesOverNstart, 0),
      devicesWithRequestBefore201: replies.reduce((s, r) => s + r.requestBeforeCreated, 0),
      bridgeCpuS: round(cpuS * 1000) / 1000,
      otherCpuS: {
        redis: round((othersCpu1.redis - othersCpu0.redis) * 1000) / 1000,
        kafka: round((othersCpu1.kafka - othersCpu0.kafka) * 1000) / 1000,
        devices: round((othersCpu1.devices - othersCpu0.devices) * 1000) / 1000,
      },
      bridgeCpuMicrosPerRegistration: round((cpuS / Math.max(1, registered)) * 1e6),
      bridgeLogLines: server.logLines,
      bridgeWarnings: server.warnings.slice(-5),
    };
  } finally {
    await server.stop();
    release();
  }
}

async function main(p: StormParams): Promise<void> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(
    `bench storm: ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const infra = await startInfra(log, p.brokerHeap);
  writeFileSync(join(infra.profilesDir, `${PROFILE_NAME}.json`), JSON.stringify(STORM_PROFILE));
  const procs = Array.from({ length: p.processes }, () => DeviceProcess.start());
  const releaseProcs = onAbort(() => procs.forEach((d) => d.child.kill('SIGKILL')));
  const id = randomBytes(4).toString('hex');
  const profileDir = p.profile ? join(resultsDir(), 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  try {
    const floorUs: number[] = [];
    const floorClosedUs: number[] = [];
    for (let i = 0; i < p.floorRuns; i++) {
      floorUs.push(await floorRun(p, procs, p.devices));
      floorClosedUs.push(await floorRun(p, procs, FLOOR_WINDOW));
      log(
        `floor run ${i + 1}: ${floorUs[i]} µs CPU per request in a burst, ${floorClosedUs[i]} µs with ${FLOOR_WINDOW} outstanding`,
      );
    }
    const main = p.main === '' ? undefined : p.main;
    const variants: Array<[string, string | undefined, string]> = [['this', main, p.bridgeEnv]];
    if (p.compare !== '' || p.compareEnv !== '')
      variants.push(['compare', p.compare === '' ? main : p.compare, p.compareEnv === '' ? p.bridgeEnv : p.compareEnv]);
    const runs: StormRun[] = [];
    for (let i = 0; i < p.runs; i++) {
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      for (const [variant, mainJs, envJson] of order) {
        const r = await bridgeRun(
          p,
          infra,
          procs,
          variant,
          mainJs,
          envJson,
          `bench-storm-${id}-${i}-${variant}.`,
          profileDir,
        );
        runs.push(r);
        log(
          `run ${i + 1} ${variant}: ${r.registered}/${r.devices} registered, ${r.registrationsPerSecond}/s; last setup answered ${r.lastSetupAnsweredS} s, all profile-applied ${r.allProfileAppliedS} s; outstanding max ${r.maxOutstandingSetupRequests} (per device ${r.maxOutstandingPerDevice}); before 2.01: ${r.devicesWithRequestBefore201}; failures ${JSON.stringify(r.setupFailures)}; bridge ${r.bridgeCpuMicrosPerRegistration} µs/registration`,
        );
      }
    }
    const floor = median(floorClosedUs);
    const summaryOf = (variant: string): Record<string, number | null> => {
      const rs = runs.filter((r) => r.variant === variant);
      const med = (f: (r: StormRun) => number | null): number | null => {
        const xs = rs.map(f).filter((x): x is number => x !== null);
        return xs.length === rs.length ? median(xs) : null;
      };
      return {
        registrationsPerSecond: med((r) => r.registrationsPerSecond),
        registerPhaseS: med((r) => r.registerPhaseS),
        registerRetransmissions: med((r) => r.registerRetransmissions),
        udpReceiveBufferDrops: med((r) => r.udpReceiveBufferDrops),
        lastSetupAnsweredS: med((r) => r.lastSetupAnsweredS),
        allProfileAppliedS: med((r) => r.allProfileAppliedS),
        setupFailures: med((r) => Object.values(r.setupFailures).reduce((a, b) => a + b, 0)),
        bridgeCoapTimeouts: med((r) => r.bridgeCoapTimeouts),
        maxOutstandingSetupRequests: med((r) => r.maxOutstandingSetupRequests),
        bridgeMaxOutstandingSetupRequests: med((r) => r.bridgeMaxOutstandingSetupRequests),
        maxOutstandingPerDevice: Math.max(...rs.map((r) => r.maxOutstandingPerDevice)),
        devicesWithRequestBefore201: rs.reduce((s, r) => s + r.devicesWithRequestBefore201, 0),
        bridgeCpuMicrosPerRegistration: med((r) => r.bridgeCpuMicrosPerRegistration),
        redisCommandsPerDevice: med((r) => r.redisCommandsPerDevice),
      };
    };
    const targetHere = Math.round((5000 * 40) / floor);
    const results = {
      name: p.name,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      params: p,
      setup: [
        `${p.devices} devices in ${p.processes} processes, one connected UDP socket each; ${p.window === 0 ? 'all send Register (lwm2m=1.1, ct=110 announced) at the same moment' : `Register (lwm2m=1.1, ct=110 announced) with at most ${p.window} outstanding`}, each device from its own loopback address; CoAP retransmission of the Register (2-3 s, doubling, 4 times)`,
        `profile ${PROFILE_NAME}: Read-Composite /3/0/0 + /3303/0/5700, Write-Attributes pmin/pmax on /3303/0/5700, Observe /3303/0/5700 (${SETUP_REQUESTS_PER_DEVICE} setup requests per device), answered piggybacked after ${p.answerDelayMs} ms`,
        'each run: a fresh bridge (node dist/src/main.js, LOG_LEVEL=info) with fresh Redis key and Kafka topic prefixes against the same Redis and Kafka broker',
        'registrations/s = 2.01 received / (last 2.01 received - first Register sent)',
        `floor: Registers against bench/storm-floor.ts (a Node UDP responder answering each CON request with a piggybacked 2.01), its CPU / requests; all at once (burst) and with ${FLOOR_WINDOW} outstanding (closed loop, as npm run bench drives the server: the figure the target is scaled by)`,
      ],
      floorMicrosPerRequest: {
        closedLoop: { window: FLOOR_WINDOW, median: floor, runs: floorClosedUs },
        burst: { median: median(floorUs), runs: floorUs },
      },
      target: {
        statement: '>= 5000 registrations/s with profile setup, where the floor costs ~40 µs/request',
        scaledToThisMachine: targetHere,
      },
      summary: Object.fromEntries(variants.map(([v]) => [v, summaryOf(v)])),
      runs,
      ...(profileDir ? { profiles: profileDir } : {}),
    };
    const dir = resultsDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${p.name}-${startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`floor ${floor} µs/request → target here ${targetHere} registrations/s`);
    for (const [v] of variants) log(`${v}: ${JSON.stringify(summaryOf(v))}`);
    log(`results: ${file}`);
  } finally {
    releaseProcs();
    for (const d of procs) d.child.kill('SIGTERM');
    await infra.stop();
  }
}

function cpuOf(pids: { redis?: number; kafka?: number; devices: readonly number[] }): {
  redis: number;
  kafka: number;
  devices: number;
} {
  const of = (pid: number | undefined): number => {
    const c = pid === undefined ? undefined : cpuSeconds(pid);
    return c === undefined ? 0 : c.user + c.system;
  };
  return { redis: of(pids.redis), kafka: of(pids.kafka), devices: pids.devices.reduce((s, p) => s + of(p), 0) };
}

/** Udp RcvbufErrors of /proc/net/snmp (Linux): datagrams dropped because a socket's receive buffer was full. */
function udpReceiveBufferErrors(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/);
    const i = names.indexOf('RcvbufErrors');
    return i < 0 ? undefined : Number(values[i]);
  } catch {
    return undefined;
  }
}

/** Sum of a labelled counter's series whose label value is `value`. */
function labelled(text: string, name: string, value: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`="${value}"`)) continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

function plain(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function sumBuckets(parts: readonly Int32Array[]): number[] {
  const len = Math.max(0, ...parts.map((b) => b.length));
  return Array.from({ length: len }, (_, i) => parts.reduce((s, b) => s + (b[i] ?? 0), 0));
}

function sumRecords(rs: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function extraEnv(json: string): Record<string, string> {
  if (json === '') return {};
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('--bridgeEnv must be a JSON object');
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

const round = Math.round;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const params = ((): StormParams => {
  try {
    const p = parseArgs(DEFAULTS, process.argv.slice(2));
    if (p.devices < 1 || p.processes < 1) throw new Error('--devices and --processes must be at least 1');
    if (p.devices / p.processes > 15_000)
      throw new Error('--devices / --processes: at most 15000 sockets per process (ulimit -n)');
    extraEnv(p.bridgeEnv);
    extraEnv(p.compareEnv);
    return p;
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return process.exit(2);
  }
})();
setTimeout(
  () => {
    process.stderr.write('bench storm: time bound exceeded, stopping\n');
    process.exit(3);
  },
  (600 +
    (params.runs * (params.compare || params.compareEnv ? 2 : 1) + 2 * params.floorRuns) * (params.timeoutS + 90)) *
    1000,
).unref();
main(params).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench storm failed: ${errorStack(err)}\n`);
    process.exit(1);
  },
);
