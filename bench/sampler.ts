/**
 * Resource samples at the edges of a measured window: CPU seconds of the server process and of
 * this (load-generator) process, and the server's own request counter from /metrics.
 */
import type { ServerProcess } from './server-process';

export interface Sample {
  readonly atMs: number;
  readonly serverCpuS: number | undefined;
  readonly benchCpuS: number;
  readonly serverRequestsIn: number | undefined;
}

export interface Usage {
  /** Server CPU over the window, in percent of one core (100 = one core busy). */
  readonly serverCpuPercent: number | undefined;
  /** This process (load-generator workers + orchestration) in percent of one core. */
  readonly generatorCpuPercent: number;
  /** CoAP requests the server counted (lwm2m_coap_requests_in_total), per second. */
  readonly serverRequestsPerSecond: number | undefined;
}

export async function sample(server: ServerProcess, withMetrics: boolean): Promise<Sample> {
  const cpu = process.cpuUsage();
  const s = { atMs: performance.now(), serverCpuS: server.cpuSeconds(), benchCpuS: (cpu.user + cpu.system) / 1e6 };
  if (!withMetrics) return { ...s, serverRequestsIn: undefined };
  const m = await server.metrics().catch(() => new Map<string, number>());
  return { ...s, serverRequestsIn: m.get('lwm2m_coap_requests_in_total') };
}

export function usage(a: Sample, b: Sample): Usage {
  const s = (b.atMs - a.atMs) / 1000;
  const pct = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined || y === undefined ? undefined : Math.round(((y - x) / s) * 1000) / 10);
  const reqs = a.serverRequestsIn === undefined || b.serverRequestsIn === undefined ? undefined : Math.round((b.serverRequestsIn - a.serverRequestsIn) / s);
  return { serverCpuPercent: pct(a.serverCpuS, b.serverCpuS), generatorCpuPercent: pct(a.benchCpuS, b.benchCpuS) ?? 0, serverRequestsPerSecond: reqs };
}

/** Resolves at a wall-clock time given as performance.timeOrigin + now(). */
export function at(wallMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, wallMs - (performance.timeOrigin + performance.now()))));
}
