/**
 * The results file (bench/results/<name>-<timestamp>.json and latest.json) and the short
 * human summary printed at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HeapResult } from './heap-phase';
import type { BenchParams } from './params';
import type { MachineInfo } from './proc';
import type { RegistrationResult, SendResult } from './throughput-phase';

export const TARGET_REQUESTS_PER_SECOND = 30_000;

export interface BenchResults {
  readonly name: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly target: { readonly requestsPerSecond: number; readonly statement: string; readonly met: boolean };
  readonly machine: MachineInfo;
  readonly params: BenchParams;
  readonly setup: readonly string[];
  readonly registration: RegistrationResult;
  readonly send: SendResult;
  readonly server: {
    readonly rssBytesAfterSend: number | undefined;
    readonly peakRssBytes: number | undefined;
    readonly logLines: number;
    readonly warnings: readonly string[];
  };
  readonly heap?: HeapResult;
  readonly profiles?: string;
}

/** bench/results beside the sources (this file runs from dist/bench). */
export const resultsDir = (): string => resolve(__dirname, '..', '..', 'bench', 'results');

export function writeResults(r: BenchResults): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `${r.name}-${stamp}.json`);
  const text = `${JSON.stringify(r, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}

export function summary(r: BenchResults): string {
  const kb = (b: number | undefined): string => (b === undefined ? '?' : `${(b / 1024).toFixed(2)} KB`);
  const mb = (b: number | undefined): string => (b === undefined ? '?' : `${(b / 1048576).toFixed(1)} MB`);
  const lines = [
    `lwm2m-bridge benchmark (${r.machine.cpuCount} x ${r.machine.cpuModel}, node ${r.machine.node})`,
    `  registrations: ${r.registration.perSecond}/s (${r.registration.registered}/${r.registration.devices} in ${r.registration.elapsedS} s, p50 ${r.registration.latency.p50Ms} ms, p99 ${r.registration.latency.p99Ms} ms)`,
    `  Send (${r.send.format}), median of ${r.send.runs.length} runs: ${r.send.median.okPerSecond}/s handled, p50 ${r.send.median.p50Ms} ms, p99 ${r.send.median.p99Ms} ms, server CPU ${r.send.median.serverCpuPercent}% (${r.send.median.serverCpuMicrosPerRequest} µs/request, ≈${r.send.median.projectedPerCorePerSecond}/s on one full core)`,
    `    runs: ${r.send.runs.map((x) => x.okPerSecond).join(', ')} /s`,
    `  target ${r.target.requestsPerSecond}/s: ${r.target.met ? 'MET' : 'NOT MET'}`,
    `  server RSS after Send: ${mb(r.server.rssBytesAfterSend)} (peak ${mb(r.server.peakRssBytes)})`,
  ];
  for (const l of r.heap?.levels ?? []) {
    lines.push(
      `  heap/device at ${l.serverCount}: ${kb(l.fresh.perDeviceBytes)} fresh${l.idle ? `, ${kb(l.idle.perDeviceBytes)} idle` : ''} (RSS ${mb(l.idle?.rssBytes ?? l.fresh.rssBytes)})`,
    );
  }
  return lines.join('\n');
}
