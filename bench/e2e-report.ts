/**
 * The end-to-end results file (bench/results/<name>-<timestamp>.json and latest-e2e.json), the
 * issue's targets checked against the figures, and the short summary printed at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { E2eHeapResult } from './e2e-heap';
import type { E2eParams } from './e2e-params';
import type { SetupResult } from './e2e-setup';
import type { E2eRunSet } from './e2e-throughput';
import type { MachineInfo } from './proc';
import { resultsDir } from './report';

export const E2E_TARGETS = {
  recordsPerSecond: 20_000,
  p99Ms: 50,
  heapBytesPerIdleDevice: 1024,
  heapDevices: 100_000,
} as const;

export interface TargetCheck {
  readonly statement: string;
  readonly value: number | undefined;
  readonly unit: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
  readonly note: string;
}

export interface E2eResults {
  readonly name: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly params: E2eParams;
  readonly infra: {
    readonly redis: string;
    readonly kafka: string;
    readonly telemetryTopic: string;
    readonly partitions: number;
    readonly bridgeEnv: Readonly<Record<string, string>>;
  };
  readonly setup: readonly string[];
  readonly targets: { readonly throughput: TargetCheck; readonly latency: TargetCheck; readonly heap: TargetCheck };
  readonly report: {
    readonly redisCommandsPerNotification: number | undefined;
    readonly bridgeRssBytes: number | undefined;
    readonly bridgePeakRssBytes: number | undefined;
    readonly heapBridgeRssBytes: number | undefined;
  };
  readonly devices?: SetupResult;
  /** Closed-loop runs: the throughput figure. */
  readonly closedLoop?: E2eRunSet;
  /** Runs paced at the target rate: the latency figure. */
  readonly atTargetRate?: E2eRunSet;
  readonly bridge?: { readonly logLines: number; readonly warnings: readonly string[] };
  readonly heap?: E2eHeapResult;
  readonly profiles?: string;
  /**
   * `--security=compare`: the same closed-loop runs with the devices over CoAPS (PSK), after the
   * plain ones, and DTLS throughput / plain throughput (issue 5's target: at least 0.5).
   */
  readonly dtls?: { readonly closedLoop: E2eRunSet; readonly devices: SetupResult; readonly ratioToPlain?: number };
}

export function checkTargets(
  closed: E2eRunSet | undefined,
  paced: E2eRunSet | undefined,
  heap: E2eHeapResult | undefined,
  targetRate: number,
): E2eResults['targets'] {
  const T = E2E_TARGETS;
  const throughput: TargetCheck = {
    statement: `at least ${T.recordsPerSecond} notifications/s into Kafka (records appended, read back)`,
    value: closed?.median.kafkaRecordsPerSecond,
    unit: 'records/s',
    met: closed === undefined ? undefined : closed.median.kafkaRecordsPerSecond >= T.recordsPerSecond,
    note:
      closed === undefined
        ? 'not measured'
        : `median of ${closed.runs.length} closed-loop runs: ${closed.runs.map((r) => r.kafkaRecordsPerSecond).join(', ')}`,
  };
  const set = paced ?? closed;
  const achieved = set?.median.kafkaRecordsPerSecond;
  const p99 = set?.median.sendToAppendP99Ms;
  const latency: TargetCheck = {
    statement: `p99 datagram-in -> Kafka-ack <= ${T.p99Ms} ms (measured as device send -> broker append time)`,
    value: p99,
    unit: 'ms',
    met:
      set === undefined || p99 === undefined
        ? undefined
        : p99 <= T.p99Ms && (paced === undefined || (achieved ?? 0) >= 0.98 * targetRate),
    note:
      set === undefined
        ? 'not measured'
        : paced !== undefined
          ? `median of ${paced.runs.length} runs paced at ${targetRate}/s, achieving ${achieved} records/s; closed loop: p99 ${closed?.median.sendToAppendP99Ms ?? '?'} ms`
          : `closed-loop runs at ${achieved} records/s`,
  };
  const levels = heap?.levels ?? [];
  const level = levels.find((l) => l.devices === T.heapDevices) ?? levels[levels.length - 1];
  const heapCheck: TargetCheck = {
    statement: `heap per idle registered device <= ${T.heapBytesPerIdleDevice} B at ${T.heapDevices} devices, Redis mode`,
    value: level?.idle?.perDeviceBytes ?? level?.fresh.perDeviceBytes,
    unit: 'bytes/device',
    met:
      level?.idle === undefined
        ? undefined
        : level.idle.perDeviceBytes <= T.heapBytesPerIdleDevice && level.devices >= T.heapDevices,
    note:
      level === undefined
        ? 'not measured'
        : `${level.serverCount} devices; ${level.idle ? `idle (after EXCHANGE_LIFETIME); fresh ${level.fresh.perDeviceBytes} B` : 'fresh only (--idle=false): not the idle figure'}`,
  };
  return { throughput, latency, heap: heapCheck };
}

export function writeE2eResults(r: E2eResults): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${r.name}-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(r, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest-e2e.json'), text);
  return file;
}

export function summaryE2e(r: E2eResults): string {
  const mb = (b: number | undefined): string => (b === undefined ? '?' : `${(b / 1048576).toFixed(1)} MB`);
  const verdict = (t: TargetCheck): string => (t.met === undefined ? 'not checked' : t.met ? 'MET' : 'NOT MET');
  const lines = [
    `lwm2m-bridge end-to-end benchmark: CoAP -> bridge -> Redis + Kafka (${r.machine.cpuCount} x ${r.machine.cpuModel}, node ${r.machine.node})`,
  ];
  for (const t of [r.targets.throughput, r.targets.latency, r.targets.heap])
    lines.push(`  ${t.statement}: ${t.value ?? '?'} ${t.unit} -> ${verdict(t)} (${t.note})`);
  lines.push(
    `  Redis commands per notification: ${r.report.redisCommandsPerNotification ?? '?'}; bridge RSS ${mb(r.report.bridgeRssBytes)} (peak ${mb(r.report.bridgePeakRssBytes)}); heap-phase bridge RSS ${mb(r.report.heapBridgeRssBytes)}`,
  );
  for (const [label, s] of [
    ['closed loop', r.closedLoop],
    [`paced ${r.params.targetRate}/s`, r.atTargetRate],
  ] as const) {
    if (s === undefined) continue;
    const m = s.median;
    lines.push(
      `  ${label}: ${m.kafkaRecordsPerSecond} records/s, send->append p50 ${m.sendToAppendP50Ms} / p99 ${m.sendToAppendP99Ms} ms${Number.isFinite(m.sendToConsumeP99Ms) ? `, send->consume p99 ${m.sendToConsumeP99Ms} ms` : ''}, ACK p99 ${m.sendToAckP99Ms} ms, ` +
        `produce p99 <= ${m.serverProduceP99AtMostMs} ms; bridge CPU ${m.bridgeCpuPercent}% (${m.bridgeCpuMicrosPerNotification} µs/notification), machine ${m.machineCpuPercent}%, others ${m.othersCpuPercent}%`,
    );
  }
  if (r.dtls !== undefined) {
    const m = r.dtls.closedLoop.median;
    lines.push(
      `  over DTLS (PSK, closed loop): ${m.kafkaRecordsPerSecond} records/s, send->append p99 ${m.sendToAppendP99Ms} ms, bridge CPU ${m.bridgeCpuMicrosPerNotification} µs/notification; ratio to plain ${r.dtls.ratioToPlain ?? '?'} (target >= 0.5)`,
    );
  }
  return lines.join('\n');
}
