/**
 * Phase (c): heap per registered device. One fresh server per level (10k, 100k), all started
 * together. For each: heapUsed after a forced GC (POST /debug/gc) before any registration is the
 * baseline; then `level` devices register, and (heapUsed after GC - baseline) / devices is the
 * heap per device. Right after registering this includes each peer's deduplication ring
 * (RFC 7252 §4.5, kept for EXCHANGE_LIFETIME); with `idle`, the servers are measured again once
 * that state has been swept, which is the "idle registered device" figure.
 *
 * The OS limits open files (ulimit -n), so devices register from batches of sockets that are
 * closed once registered (registrations persist server-side). Each batch binds its own loopback
 * address (127.1.x.y) so that no (address, port) pair is ever reused: a reused pair would be the
 * same peer to the server's deduplication and address index.
 */
import { createSocket } from 'node:dgram';
import { DEFAULT_TRANSMISSION, exchangeLifetimeMs } from '../src/coap/params';
import { shareOf, type LoadGenerator } from './generator';
import type { BenchParams } from './params';
import { at } from './sampler';
import { SERVER_HOST, ServerProcess, type GcResult } from './server-process';
import { concatSamples, summarize, type LatencySummary } from './stats';

export interface HeapMeasure {
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  readonly perDeviceBytes: number;
}

export interface HeapLevel {
  readonly devices: number;
  readonly registered: number;
  readonly serverCount: number;
  readonly registrationsPerSecond: number;
  readonly registrationLatency: LatencySummary;
  readonly baseline: { readonly heapUsedBytes: number; readonly rssBytes: number };
  /** Right after registering (includes per-peer deduplication state). */
  readonly fresh: HeapMeasure;
  /** After EXCHANGE_LIFETIME, once deduplication state has been swept. */
  readonly idle?: HeapMeasure;
}

export interface HeapResult {
  readonly bindAddresses: string;
  readonly exchangeLifetimeS: number;
  readonly levels: HeapLevel[];
}

const SWEEP_SLACK_MS = 12_000; // the endpoint sweeps every 10 s once EXCHANGE_LIFETIME has passed

export async function runHeap(p: BenchParams, gen: LoadGenerator, log: (s: string) => void): Promise<HeapResult> {
  const distinct = await canBind('127.1.0.1');
  const lifetimeMs = exchangeLifetimeMs(DEFAULT_TRANSMISSION);
  const env = {
    COAP_ACK_TIMEOUT_MS: String(DEFAULT_TRANSMISSION.ackTimeoutMs),
    COAP_ACK_RANDOM_FACTOR: String(DEFAULT_TRANSMISSION.ackRandomFactor),
    COAP_MAX_RETRANSMIT: String(DEFAULT_TRANSMISSION.maxRetransmit),
  };
  const servers = await Promise.all(p.heapLevels.map(() => ServerProcess.start({ env })));
  try {
    const baselines = await Promise.all(servers.map((s) => settledGc(s)));
    const levels: HeapLevel[] = [];
    let lastRegistrationMs = 0;
    for (const [i, devices] of p.heapLevels.entries()) {
      const server = servers[i] as ServerProcess;
      const base = baselines[i] as GcResult;
      const shares = Array.from({ length: gen.size }, (_, w) => shareOf(devices, gen.size, w));
      // Batch k of all workers together binds address k: no (address, port) pair is reused.
      const batchesBefore = shares.map((_, w) =>
        shares.slice(0, w).reduce((n, sh) => n + Math.ceil(sh.count / p.heapBatch), 0),
      );
      const address = (k: number): string => (distinct ? `127.1.${Math.floor(k / 250)}.${(k % 250) + 1}` : SERVER_HOST);
      log(`  registering ${devices} devices in batches of ${p.heapBatch} sockets`);
      const replies = await gen.all('registered', (w) => {
        const share = shares[w] as { first: number; count: number };
        const offset = batchesBefore[w] as number;
        return {
          kind: 'register-batched',
          target: { address: SERVER_HOST, port: server.coapPort },
          loop: { window: Math.max(1, Math.ceil(p.window / gen.size)), timeoutMs: p.timeoutMs },
          bindAddresses: Array.from({ length: Math.ceil(share.count / p.heapBatch) }, (_, b) => address(offset + b)),
          firstIndex: share.first,
          count: share.count,
          batchSize: p.heapBatch,
          endpointPrefix: `heap${devices}-`,
          lifetimeS: p.lifetimeS,
          retries: p.registerRetries,
        };
      });
      const startMs = Math.min(...replies.map((r) => r.startWallMs));
      lastRegistrationMs = Math.max(...replies.map((r) => r.endWallMs));
      const registered = replies.reduce((n, r) => n + r.registered, 0);
      const serverCount = await server.registrationCount();
      const fresh = measure(await settledGc(server), base, serverCount);
      log(
        `  ${serverCount} registered: ${fresh.perDeviceBytes} B/device (fresh), heapUsed ${mb(fresh.heapUsedBytes)} MB, RSS ${mb(fresh.rssBytes)} MB`,
      );
      levels.push({
        devices,
        registered,
        serverCount,
        registrationsPerSecond: Math.round(registered / ((lastRegistrationMs - startMs) / 1000)),
        registrationLatency: summarize(concatSamples(replies.map((r) => r.latenciesMs))),
        baseline: { heapUsedBytes: base.heapUsed, rssBytes: base.rss },
        fresh,
      });
    }
    if (p.idle) await measureIdle(levels, servers, baselines, lastRegistrationMs, lifetimeMs, log);
    return {
      bindAddresses: distinct ? '127.1.x.y, one per batch of sockets' : `${SERVER_HOST} only`,
      exchangeLifetimeS: lifetimeMs / 1000,
      levels,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Two forced GCs in a row (the second one sees what the first one's finalisers released). */
/**
 * Waits until the deduplication state of the last registrations has expired (EXCHANGE_LIFETIME,
 * plus the endpoint's sweep), then measures each level's server again: heap per idle device.
 */
export async function measureIdle<L extends { readonly serverCount: number; idle?: HeapMeasure }>(
  levels: L[],
  servers: readonly ServerProcess[],
  baselines: readonly GcResult[],
  lastRegistrationMs: number,
  lifetimeMs: number,
  log: (s: string) => void,
): Promise<void> {
  const until = lastRegistrationMs + lifetimeMs + SWEEP_SLACK_MS;
  log(
    `  waiting ${Math.round((until - (performance.timeOrigin + performance.now())) / 1000)} s for deduplication state to expire (EXCHANGE_LIFETIME ${lifetimeMs / 1000} s)`,
  );
  await at(until);
  for (const [i, level] of levels.entries()) {
    const idle = measure(await settledGc(servers[i] as ServerProcess), baselines[i] as GcResult, level.serverCount);
    levels[i] = { ...level, idle };
    log(
      `  ${level.serverCount} registered: ${idle.perDeviceBytes} B/device (idle), heapUsed ${mb(idle.heapUsedBytes)} MB, RSS ${mb(idle.rssBytes)} MB`,
    );
  }
}

export async function settledGc(server: ServerProcess): Promise<GcResult> {
  await server.gc();
  return server.gc();
}

export function measure(gc: GcResult, base: GcResult, devices: number): HeapMeasure {
  return {
    heapUsedBytes: gc.heapUsed,
    rssBytes: gc.rss,
    perDeviceBytes: Math.round((gc.heapUsed - base.heapUsed) / Math.max(1, devices)),
  };
}

export async function canBind(address: string): Promise<boolean> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, address, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      s.close();
    } catch {
      // never bound
    }
  }
}

const mb = (b: number): string => (b / 1048576).toFixed(1);
