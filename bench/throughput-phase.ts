/**
 * Phases (a) and (b) on one fresh server: register `devices` devices as fast as the window
 * allows, then drive Send (POST /dp) from them for a fixed duration after a warm-up, `runs` times.
 */
import { shareOf, type LoadGenerator } from './generator';
import type { BenchParams } from './params';
import { addCounters, newCounters, type LoopCounters } from './protocol';
import { at, sample, usage, waitForQuiet, type QuietCheck, type Usage } from './sampler';
import { SERVER_HOST, type ServerProcess } from './server-process';
import { concatSamples, median, round3, summarize, type LatencySummary } from './stats';

export interface RegistrationResult {
  readonly quietCheck: QuietCheck;
  readonly devices: number;
  readonly registered: number;
  readonly failed: number;
  readonly serverCount: number;
  readonly elapsedS: number;
  readonly perSecond: number;
  readonly latency: LatencySummary;
  readonly counters: LoopCounters;
  readonly usage: Usage;
}

export interface SendRun extends Usage {
  readonly run: number;
  readonly quietCheck: QuietCheck;
  /** 2.xx responses received in the measured window, per second: the throughput figure. */
  readonly okPerSecond: number;
  readonly sentPerSecond: number;
  readonly counters: LoopCounters;
  readonly latency: LatencySummary;
  /** Server CPU time (user + system) per handled request: stable under CPU contention, unlike the rate. */
  readonly serverCpuMicrosPerRequest: number | undefined;
  /** 1e6 / serverCpuMicrosPerRequest: the rate one fully available core would give at that cost. */
  readonly projectedPerCorePerSecond: number | undefined;
  readonly serverRssBytes: number | undefined;
  readonly serverPeakRssBytes: number | undefined;
}

export interface SendResult {
  readonly format: string;
  readonly runs: SendRun[];
  /** Medians over the runs, each figure taken separately. */
  readonly median: {
    readonly okPerSecond: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly serverCpuPercent: number;
    readonly serverCpuMicrosPerRequest: number;
    readonly projectedPerCorePerSecond: number;
  };
}

export async function openDevices(p: BenchParams, gen: LoadGenerator, server: ServerProcess): Promise<void> {
  const target = { address: SERVER_HOST, port: server.coapPort };
  await gen.all('opened', (i) => {
    const { first, count } = shareOf(p.devices, gen.size, i);
    return { kind: 'open', target, bindAddress: SERVER_HOST, firstIndex: first, count };
  });
}

export async function registerAll(
  p: BenchParams,
  gen: LoadGenerator,
  server: ServerProcess,
): Promise<RegistrationResult> {
  const loop = { window: Math.max(1, Math.ceil(p.window / gen.size)), timeoutMs: p.timeoutMs };
  const quietCheck = await waitForQuiet(server, p.quietWaitS, p.quietPercent);
  const before = await sample(server, true);
  const replies = await gen.all('registered', () => ({
    kind: 'register',
    loop,
    endpointPrefix: 'bench-',
    lifetimeS: p.lifetimeS,
    retries: p.registerRetries,
  }));
  const after = await sample(server, true);
  const counters = newCounters();
  for (const r of replies) addCounters(counters, r.counters);
  const registered = replies.reduce((s, r) => s + r.registered, 0);
  const elapsedS =
    (Math.max(...replies.map((r) => r.endWallMs)) - Math.min(...replies.map((r) => r.startWallMs))) / 1000;
  return {
    quietCheck,
    devices: p.devices,
    registered,
    failed: replies.reduce((s, r) => s + r.failed, 0),
    serverCount: await server.registrationCount(),
    elapsedS: Math.round(elapsedS * 1000) / 1000,
    perSecond: Math.round(registered / elapsedS),
    latency: summarize(concatSamples(replies.map((r) => r.latenciesMs))),
    counters,
    usage: usage(before, after),
  };
}

export async function sendRuns(
  p: BenchParams,
  gen: LoadGenerator,
  server: ServerProcess,
  log: (s: string) => void,
): Promise<SendResult> {
  const runs: SendRun[] = [];
  const loop = { window: Math.max(1, Math.ceil(p.window / gen.size)), timeoutMs: p.timeoutMs };
  for (let run = 1; run <= p.runs; run++) {
    const quietCheck = await waitForQuiet(server, p.quietWaitS, p.quietPercent);
    const startAtMs = performance.timeOrigin + performance.now() + 300;
    const t0 = startAtMs + p.warmupS * 1000;
    const t1 = t0 + p.durationS * 1000;
    const replying = gen.all('sent', () => ({
      kind: 'send',
      loop,
      format: p.format,
      startAtMs,
      warmupMs: p.warmupS * 1000,
      durationMs: p.durationS * 1000,
    }));
    await at(t0);
    const before = await sample(server, true);
    await at(t1);
    const after = await sample(server, true);
    const mem = server.rss();
    const replies = await replying;
    const counters = newCounters();
    for (const r of replies) addCounters(counters, r.counters);
    const use = usage(before, after);
    const cpuPerRequest =
      use.serverCpuPercent === undefined || counters.ok === 0
        ? undefined
        : Math.round((use.serverCpuPercent * 1e5 * p.durationS) / counters.ok) / 10;
    const result: SendRun = {
      run,
      quietCheck,
      okPerSecond: Math.round(counters.ok / p.durationS),
      sentPerSecond: Math.round(counters.sent / p.durationS),
      counters,
      latency: summarize(concatSamples(replies.map((r) => r.latenciesMs))),
      ...use,
      serverCpuMicrosPerRequest: cpuPerRequest,
      projectedPerCorePerSecond: cpuPerRequest === undefined ? undefined : Math.round(1e6 / cpuPerRequest),
      serverRssBytes: mem?.rssBytes,
      serverPeakRssBytes: mem?.peakBytes,
    };
    runs.push(result);
    log(
      `  run ${run}: ${result.okPerSecond} Send/s handled, p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms, ` +
        `timeouts ${counters.timeouts}, errors ${Object.values(counters.errorCodes).reduce((a, b) => a + b, 0)}, CPU% server ${result.serverCpuPercent ?? '?'} (system ${result.serverSystemCpuPercent ?? '?'}; ${result.serverCpuMicrosPerRequest ?? '?'} µs/request) generator ${result.generatorCpuPercent} others ${result.otherCpuPercent ?? '?'}` +
        ` (waited ${quietCheck.waitedS} s for a quiet machine${quietCheck.quiet ? '' : ', in vain'})`,
    );
    if (run < p.runs) await new Promise((r) => setTimeout(r, p.pauseS * 1000));
  }
  return {
    format: p.format,
    runs,
    median: {
      okPerSecond: Math.round(median(runs.map((r) => r.okPerSecond))),
      p50Ms: round3(median(runs.map((r) => r.latency.p50Ms))),
      p99Ms: round3(median(runs.map((r) => r.latency.p99Ms))),
      serverCpuPercent: round3(median(runs.map((r) => r.serverCpuPercent ?? Number.NaN))),
      serverCpuMicrosPerRequest: round3(median(runs.map((r) => r.serverCpuMicrosPerRequest ?? Number.NaN))),
      projectedPerCorePerSecond: Math.round(median(runs.map((r) => r.projectedPerCorePerSecond ?? Number.NaN))),
    },
  };
}
