/**
 * Resource samples at the edges of a measured window: CPU seconds of the server process and of
 * this (load-generator) process, and the server's own request counter from /metrics.
 */
import { cpuPressureAvg10, machineCpuSeconds } from './proc';
import type { ServerProcess } from './server-process';

export interface Sample {
  readonly atMs: number;
  readonly serverCpuS: number | undefined;
  readonly serverSystemCpuS: number | undefined;
  readonly benchCpuS: number;
  readonly serverRequestsIn: number | undefined;
  readonly machine: { busy: number; total: number } | undefined;
}

export interface Usage {
  /** Server CPU over the window, in percent of one core (100 = one core busy). */
  readonly serverCpuPercent: number | undefined;
  /** The kernel's share of it (system time: socket calls, loopback delivery). */
  readonly serverSystemCpuPercent: number | undefined;
  /** This process (load-generator workers + orchestration) in percent of one core. */
  readonly generatorCpuPercent: number;
  /** CoAP requests the server counted (lwm2m_coap_requests_in_total), per second. */
  readonly serverRequestsPerSecond: number | undefined;
  /** All CPUs of the machine, busy, in percent of one core (200 = both cores of a 2-core machine). */
  readonly machineCpuPercent: number | undefined;
  /** CPU used by other processes (machine - server - this process), in percent of one core: the noise. */
  readonly otherCpuPercent: number | undefined;
  /** PSI "some" avg10 at the end of the window: % of time tasks waited for a CPU. */
  readonly cpuPressureAvg10: number | undefined;
}

export async function sample(server: ServerProcess, withMetrics: boolean): Promise<Sample> {
  const cpu = process.cpuUsage();
  const serverCpu = server.cpuSeconds();
  const s = {
    atMs: performance.now(),
    serverCpuS: serverCpu === undefined ? undefined : serverCpu.user + serverCpu.system,
    serverSystemCpuS: serverCpu?.system,
    benchCpuS: (cpu.user + cpu.system) / 1e6,
    machine: machineCpuSeconds(),
  };
  if (!withMetrics) return { ...s, serverRequestsIn: undefined };
  const m = await server.metrics().catch(() => new Map<string, number>());
  return { ...s, serverRequestsIn: m.get('lwm2m_coap_requests_in_total') };
}

export function usage(a: Sample, b: Sample): Usage {
  const s = (b.atMs - a.atMs) / 1000;
  const pct = (x: number | undefined, y: number | undefined): number | undefined =>
    x === undefined || y === undefined ? undefined : Math.round(((y - x) / s) * 1000) / 10;
  const reqs =
    a.serverRequestsIn === undefined || b.serverRequestsIn === undefined
      ? undefined
      : Math.round((b.serverRequestsIn - a.serverRequestsIn) / s);
  const serverCpuPercent = pct(a.serverCpuS, b.serverCpuS);
  const generatorCpuPercent = pct(a.benchCpuS, b.benchCpuS) ?? 0;
  const machineCpuPercent = pct(a.machine?.busy, b.machine?.busy);
  const otherCpuPercent =
    machineCpuPercent === undefined || serverCpuPercent === undefined
      ? undefined
      : Math.max(0, Math.round((machineCpuPercent - serverCpuPercent - generatorCpuPercent) * 10) / 10);
  return {
    serverCpuPercent,
    serverSystemCpuPercent: pct(a.serverSystemCpuS, b.serverSystemCpuS),
    generatorCpuPercent,
    serverRequestsPerSecond: reqs,
    machineCpuPercent,
    otherCpuPercent,
    cpuPressureAvg10: cpuPressureAvg10(),
  };
}

/** Resolves at a wall-clock time given as performance.timeOrigin + now(). */
export function at(wallMs: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, wallMs - (performance.timeOrigin + performance.now()))),
  );
}

export interface QuietCheck {
  /** CPU used by other processes in the last probe, in percent of one core. */
  readonly otherCpuPercent: number | undefined;
  readonly waitedS: number;
  readonly quiet: boolean;
}

/**
 * The machine is shared: before a measurement, wait (at most `maxWaitS`) until other processes
 * use less than `thresholdPercent` of one core over a one-second probe.
 */
export async function waitForQuiet(
  server: ServerProcess,
  maxWaitS: number,
  thresholdPercent: number,
): Promise<QuietCheck> {
  const start = performance.now();
  for (;;) {
    const a = await sample(server, false);
    await new Promise((r) => setTimeout(r, 1000));
    const other = usage(a, await sample(server, false)).otherCpuPercent;
    const waitedS = Math.round((performance.now() - start) / 100) / 10;
    if (other === undefined || other < thresholdPercent) return { otherCpuPercent: other, waitedS, quiet: true };
    if (waitedS >= maxWaitS) return { otherCpuPercent: other, waitedS, quiet: false };
    await new Promise((r) => setTimeout(r, 1000));
  }
}
