/**
 * Throughput and latency of notifications into Kafka, on one bridge with its devices registered
 * and observed. Each run: CON notifications for `warmupS` + `durationS`; the figures count what
 * happened in the measured window [t0, t1):
 *   - into Kafka: notification records whose broker append time is in the window (read back by
 *     the consumer process), per second; cross-checked with the bridge's published-records gauge;
 *   - latency: broker append time - device send time, for notifications sent in the window;
 *   - Redis commands per notification: lwm2m_redis_commands_total delta / notifications delta.
 */
import type { ConsumedWindow } from './e2e-consumer-protocol';
import type { ConsumerProcess } from './e2e-consumer-client';
import type { Infra } from './e2e-infra';
import type { E2eParams } from './e2e-params';
import type { E2eCommand, E2eReply, NotifyCounters } from './e2e-protocol';
import {
  cpuSample,
  cpuUsage,
  delta,
  histogramWindow,
  parseMetrics,
  runtimeWindow,
  waitForQuiet,
  type CpuUsage,
  type HistogramWindow,
  type ProcName,
  type QuietCheck,
  type RuntimeWindow,
} from './e2e-sampler';
import { rss } from './proc';
import { at } from './sampler';
import type { ServerProcess } from './server-process';
import { concatSamples, median, round3, summarize, type LatencySummary } from './stats';
import type { WorkerPool } from './worker-pool';

export interface RunContext {
  readonly p: E2eParams;
  readonly pool: WorkerPool<E2eCommand, E2eReply>;
  readonly server: ServerProcess;
  readonly consumer: ConsumerProcess;
  readonly infra: Infra;
  readonly topic: string;
  readonly pids: Partial<Record<ProcName, number>>;
  readonly epochMs: number;
  readonly log: (s: string) => void;
}

export interface E2eRun {
  readonly run: number;
  /** Cap on the offered rate (notifications/s); 0: closed loop only. */
  readonly rateCap: number;
  readonly quietCheck: QuietCheck;
  /** Notification records appended to Kafka in the window, per second: the throughput figure. */
  readonly kafkaRecordsPerSecond: number;
  /** Records the bridge saw acknowledged by Kafka (lwm2m_bus_published_records delta), per second. */
  readonly busPublishedPerSecond: number | undefined;
  /** Notifications the bridge acknowledged (CON ACK) in the window, per second. */
  readonly notificationsAckedPerSecond: number;
  readonly counters: NotifyCounters;
  /** Sent in the window and acknowledged by the bridge / found on Kafka. */
  readonly sentInWindowAcked: number;
  readonly foundOnKafka: number;
  /** sendToConsume only with a live consumer (--liveConsumer). */
  readonly latency: {
    readonly sendToAppend: LatencySummary;
    readonly sendToConsume?: LatencySummary;
    readonly sendToAck: LatencySummary;
  };
  /** The bridge's own view: lwm2m_kafka_produce_seconds (publish() -> acknowledgement) in the window. */
  readonly serverProduce: HistogramWindow;
  /** The bridge's GC pauses and event-loop delay in the window: what the latency tail is made of. */
  readonly runtime: RuntimeWindow;
  readonly redis: {
    readonly commands: number | undefined;
    readonly notifications: number | undefined;
    readonly commandsPerNotification: number | undefined;
    readonly commandsPerNotificationSinceStart: number | undefined;
  };
  readonly bus: {
    readonly failed: number | undefined;
    readonly sendErrors: number | undefined;
    readonly bufferedAtEnd: number | undefined;
    readonly drainedAfterMs: number;
  };
  readonly cpu: CpuUsage;
  readonly bridgeCpuMicrosPerNotification: number | undefined;
  readonly rssBytes: Partial<Record<ProcName, number>>;
  readonly bridgePeakRssBytes: number | undefined;
  readonly consumer: Pick<ConsumedWindow, 'reachedOffsets' | 'waitedMs' | 'notifyRecordsRead' | 'unparsable'>;
}

export interface E2eRunSet {
  readonly rateCap: number;
  readonly runs: E2eRun[];
  readonly median: {
    readonly kafkaRecordsPerSecond: number;
    readonly sendToAppendP50Ms: number;
    readonly sendToAppendP99Ms: number;
    readonly sendToConsumeP99Ms: number;
    readonly sendToAckP99Ms: number;
    readonly serverProduceP99AtMostMs: number;
    readonly redisCommandsPerNotification: number;
    readonly bridgeCpuPercent: number;
    readonly bridgeCpuMicrosPerNotification: number;
    readonly machineCpuPercent: number;
    readonly othersCpuPercent: number;
  };
}

const N = {
  published: 'lwm2m_bus_published_records',
  failed: 'lwm2m_bus_failed_records',
  buffered: 'lwm2m_bus_buffered_records',
  sendErrors: 'lwm2m_bus_send_errors',
  redisCommands: 'lwm2m_redis_commands_total',
  perNotification: 'lwm2m_redis_commands_per_notification',
  notifications: 'lwm2m_events_total{type="notification"}',
} as const;

/** Closed-loop load for `primeS`, not measured; what it put on Kafka is read and dropped. */
export async function prime(ctx: RunContext): Promise<void> {
  const { p, pool } = ctx;
  if (p.primeS <= 0) return;
  const startAtMs = performance.timeOrigin + performance.now() + 300;
  const loop = { window: Math.max(1, Math.ceil(p.window / pool.size)), timeoutMs: p.timeoutMs };
  await pool.all('notified', () => ({
    kind: 'notify',
    loop,
    ratePerSecond: 0,
    epochMs: ctx.epochMs,
    startAtMs,
    warmupMs: 0,
    durationMs: p.primeS * 1000,
  }));
  await ctx.consumer.collect(0, 0, await ctx.infra.offsets(ctx.topic), 60_000);
}

export async function notifyRuns(ctx: RunContext, rateCap: number, runs: number, label: string): Promise<E2eRunSet> {
  const out: E2eRun[] = [];
  for (let run = 1; run <= runs; run++) {
    const r = await oneRun(ctx, run, rateCap);
    out.push(r);
    ctx.log(
      `  ${label} run ${run}: ${r.kafkaRecordsPerSecond} records/s into Kafka (bus ${r.busPublishedPerSecond ?? '?'}/s, ACKed ${r.notificationsAckedPerSecond}/s), ` +
        `send→append p50 ${r.latency.sendToAppend.p50Ms} p99 ${r.latency.sendToAppend.p99Ms} ms, ACK p99 ${r.latency.sendToAck.p99Ms} ms, produce p99 ≤ ${r.serverProduce.p99AtMostMs ?? '?'} ms, ` +
        `Redis ${r.redis.commandsPerNotification ?? '?'} cmd/notif, timeouts ${r.counters.timeouts}, lost ${r.sentInWindowAcked - r.foundOnKafka}, ` +
        `GC ${r.runtime.scavenges ?? '?'} scavenges avg ${r.runtime.scavengeMeanMs ?? '?'} ms, loop delay max ${r.runtime.eventLoopDelayMaxMs ?? '?'} ms, ` +
        `CPU% bridge ${r.cpu.bridge ?? '?'} kafka ${r.cpu.kafka ?? '?'} redis ${r.cpu.redis ?? '?'} consumer ${r.cpu.consumer ?? '?'} generator ${r.cpu.generator} others ${r.cpu.others ?? '?'}` +
        ` (waited ${r.quietCheck.waitedS} s for quiet${r.quietCheck.quiet ? '' : ', in vain'})`,
    );
    if (run < runs) await new Promise((res) => setTimeout(res, ctx.p.pauseS * 1000));
  }
  const med = (f: (r: E2eRun) => number | undefined): number => round3(median(out.map((r) => f(r) ?? Number.NaN)));
  return {
    rateCap,
    runs: out,
    median: {
      kafkaRecordsPerSecond: Math.round(median(out.map((r) => r.kafkaRecordsPerSecond))),
      sendToAppendP50Ms: med((r) => r.latency.sendToAppend.p50Ms),
      sendToAppendP99Ms: med((r) => r.latency.sendToAppend.p99Ms),
      sendToConsumeP99Ms: med((r) => r.latency.sendToConsume?.p99Ms),
      sendToAckP99Ms: med((r) => r.latency.sendToAck.p99Ms),
      serverProduceP99AtMostMs: med((r) => r.serverProduce.p99AtMostMs),
      redisCommandsPerNotification: med((r) => r.redis.commandsPerNotification),
      bridgeCpuPercent: med((r) => r.cpu.bridge),
      bridgeCpuMicrosPerNotification: med((r) => r.bridgeCpuMicrosPerNotification),
      machineCpuPercent: med((r) => r.cpu.machine),
      othersCpuPercent: med((r) => r.cpu.others),
    },
  };
}

async function oneRun(ctx: RunContext, run: number, rateCap: number): Promise<E2eRun> {
  const { p, pool, server } = ctx;
  if (!p.liveConsumer) await ctx.consumer.pause();
  const quietCheck = await waitForQuiet(ctx.pids, p.quietWaitS, p.quietPercent);
  const startAtMs = performance.timeOrigin + performance.now() + 300;
  const t0 = startAtMs + p.warmupS * 1000;
  const t1 = t0 + p.durationS * 1000;
  const loop = {
    window: Math.max(1, Math.ceil((rateCap > 0 ? p.pacedWindow : p.window) / pool.size)),
    timeoutMs: p.timeoutMs,
  };
  const replying = pool.all('notified', () => ({
    kind: 'notify',
    loop,
    ratePerSecond: rateCap / pool.size,
    epochMs: ctx.epochMs,
    startAtMs,
    warmupMs: p.warmupS * 1000,
    durationMs: p.durationS * 1000,
  }));
  await at(t0);
  const cpuA = cpuSample(ctx.pids);
  const mA = parseMetrics(await server.metricsText());
  await at(t1);
  const cpuB = cpuSample(ctx.pids);
  const mB = parseMetrics(await server.metricsText());
  const rssBytes: Partial<Record<ProcName, number>> = {};
  for (const [name, pid] of Object.entries(ctx.pids) as Array<[ProcName, number | undefined]>)
    if (pid !== undefined) rssBytes[name] = rss(pid)?.rssBytes;
  const bridgePeakRssBytes = rss(server.pid)?.peakBytes;
  const replies = await replying;
  const drainStart = performance.now();
  let mEnd = parseMetrics(await server.metricsText());
  while ((mEnd.get(N.buffered) ?? 0) > 0 && performance.now() - drainStart < p.drainTimeoutS * 1000) {
    await new Promise((res) => setTimeout(res, 100));
    mEnd = parseMetrics(await server.metricsText());
  }
  const drainedAfterMs = Math.round(performance.now() - drainStart);
  if (!p.liveConsumer) await ctx.consumer.resume();
  const consumed = await ctx.consumer.collect(t0, t1, await ctx.infra.offsets(ctx.topic), 60_000);

  const counters = replies.reduce<NotifyCounters>(
    (c, r) => ({
      ...c,
      sent: c.sent + r.counters.sent,
      ok: c.ok + r.counters.ok,
      timeouts: c.timeouts + r.counters.timeouts,
      resets: c.resets + r.counters.resets,
      stray: c.stray + r.counters.stray,
      lostObservations: c.lostObservations + r.counters.lostObservations,
    }),
    { sent: 0, ok: 0, errorCodes: {}, timeouts: 0, resets: 0, separate: 0, stray: 0, lostObservations: 0 },
  );
  const windowS = (cpuB.atMs - cpuA.atMs) / 1000;
  const cpu = cpuUsage(cpuA, cpuB);
  const notifications = delta(mA, mB, N.notifications);
  const commands = delta(mA, mB, N.redisCommands);
  const published = delta(mA, mB, N.published);
  return {
    run,
    rateCap,
    quietCheck,
    kafkaRecordsPerSecond: Math.round(consumed.appendedInWindow / p.durationS),
    busPublishedPerSecond: published === undefined ? undefined : Math.round(published / windowS),
    notificationsAckedPerSecond: Math.round(counters.ok / p.durationS),
    counters,
    sentInWindowAcked: replies.reduce((n, r) => n + r.sentInWindowAcked, 0),
    foundOnKafka: consumed.sentInWindow,
    latency: {
      sendToAppend: consumed.appendLatency,
      ...(p.liveConsumer ? { sendToConsume: consumed.consumeLatency } : {}),
      sendToAck: summarize(concatSamples(replies.map((r) => r.ackLatenciesMs))),
    },
    serverProduce: histogramWindow(mA, mB, 'lwm2m_kafka_produce_seconds'),
    runtime: runtimeWindow(mA, mB),
    redis: {
      commands,
      notifications,
      commandsPerNotification: commands === undefined || !notifications ? undefined : round3(commands / notifications),
      commandsPerNotificationSinceStart: mB.get(N.perNotification),
    },
    bus: {
      failed: delta(mA, mEnd, N.failed),
      sendErrors: delta(mA, mEnd, N.sendErrors),
      bufferedAtEnd: mEnd.get(N.buffered),
      drainedAfterMs,
    },
    cpu,
    bridgeCpuMicrosPerNotification:
      cpu.bridge === undefined || !notifications ? undefined : round3((cpu.bridge * 1e4 * windowS) / notifications),
    rssBytes,
    bridgePeakRssBytes,
    consumer: {
      reachedOffsets: consumed.reachedOffsets,
      waitedMs: consumed.waitedMs,
      notifyRecordsRead: consumed.notifyRecordsRead,
      unparsable: consumed.unparsable,
    },
  };
}
