/**
 * Before the notification runs: the devices open their sockets, register (POST /rd, announcing
 * the payload format with ct on the root link), and the bridge observes each of them under the
 * profile (GET /3303/0/5700 Observe=0, answered by the device worker). Bounded in time.
 */
import type { E2eParams } from './e2e-params';
import type { E2eCommand, E2eReply } from './e2e-protocol';
import { shareOf } from './generator';
import { addCounters, newCounters, type LoopCounters } from './protocol';
import { SERVER_HOST, type ServerProcess } from './server-process';
import { concatSamples, summarize, type LatencySummary } from './stats';
import type { WorkerPool } from './worker-pool';

export interface SetupResult {
  readonly devices: number;
  readonly registered: number;
  readonly failed: number;
  readonly serverCount: number;
  readonly registrationsPerSecond: number;
  readonly registrationLatency: LatencySummary;
  readonly counters: LoopCounters;
  /** Devices holding an observation, and how long after the last registration all were observed. */
  readonly observed: number;
  readonly observeRequests: number;
  readonly otherRequests: number;
  readonly observedWithinS: number;
}

export async function setupDevices(
  p: E2eParams,
  pool: WorkerPool<E2eCommand, E2eReply>,
  server: ServerProcess,
  log: (s: string) => void,
  dtls = false,
  /** Loopback addresses the devices bind to, in equal shares (bench/flood.ts: several sources, as behind NATs). */
  bindAddresses: readonly string[] = [SERVER_HOST],
): Promise<SetupResult> {
  if (dtls && server.coapsPort === undefined) throw new Error('the bridge listens on no CoAPS port');
  const target = { address: SERVER_HOST, port: dtls ? (server.coapsPort as number) : server.coapPort };
  let opened: Array<{ elapsedMs: number }> = [];
  for (let a = 0; a < bindAddresses.length; a++) {
    opened = await pool.all('opened', (i) => {
      const worker = shareOf(p.devices, pool.size, i);
      const { first, count } = shareOf(worker.count, bindAddresses.length, a);
      const bindAddress = bindAddresses[a] as string;
      return { kind: 'open', target, bindAddress, firstIndex: worker.first + first, count, format: p.format, dtls };
    });
  }
  if (dtls)
    log(`  ${p.devices} DTLS (PSK) handshakes in ${(Math.max(...opened.map((o) => o.elapsedMs)) / 1000).toFixed(2)} s`);
  log(`  registering ${p.devices} devices (window ${p.window})`);
  const loop = { window: Math.max(1, Math.ceil(p.window / pool.size)), timeoutMs: p.timeoutMs };
  const regs = await pool.all('registered', () => ({
    kind: 'register',
    loop,
    endpointPrefix: 'e2e-',
    lifetimeS: p.lifetimeS,
    retries: p.registerRetries,
  }));
  const counters = newCounters();
  for (const r of regs) addCounters(counters, r.counters);
  const registered = regs.reduce((s, r) => s + r.registered, 0);
  const elapsedS = (Math.max(...regs.map((r) => r.endWallMs)) - Math.min(...regs.map((r) => r.startWallMs))) / 1000;
  log(`  ${registered} registered in ${elapsedS.toFixed(2)} s; waiting for the bridge to observe them`);
  const obs = await pool.all('observed', () => ({ kind: 'await-observed', timeoutMs: p.observeTimeoutS * 1000 }));
  const observed = obs.reduce((s, r) => s + r.observed, 0);
  const observedWithinS = Math.round(Math.max(...obs.map((r) => r.elapsedMs))) / 1000;
  log(`  ${observed} observed ${observedWithinS} s after the last registration`);
  if (observed === 0)
    throw new Error(
      'no device was observed: is the profile assigned (PROFILE_RULES) and the bridge connected to Kafka?',
    );
  return {
    devices: p.devices,
    registered,
    failed: regs.reduce((s, r) => s + r.failed, 0),
    serverCount: await server.registrationCount(),
    registrationsPerSecond: Math.round(registered / elapsedS),
    registrationLatency: summarize(concatSamples(regs.map((r) => r.latenciesMs))),
    counters,
    observed,
    observeRequests: obs.reduce((s, r) => s + r.observeRequests, 0),
    otherRequests: obs.reduce((s, r) => s + r.otherRequests, 0),
    observedWithinS,
  };
}
