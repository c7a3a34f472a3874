/**
 * Heap per idle registered device in Redis mode: one fresh bridge per level (Redis + Kafka + the
 * profile, as in the throughput phase), all started together. Baseline = heapUsed after forced
 * GCs (POST /debug/gc) before any registration. Devices register from batches of `heapBatch`
 * sockets, each batch on its own loopback address (127.1.x.y: no (address, port) pair is ever
 * reused), and each batch stays open until the bridge has observed its devices, then closes
 * (registrations and observations persist in Redis). heap per device = (heapUsed - baseline) /
 * devices held, right after registering ("fresh", with each peer's deduplication state) and,
 * with `idle`, after EXCHANGE_LIFETIME once that state was swept ("idle": the target's figure).
 * Redis memory per device (INFO used_memory delta) is reported beside it.
 */
import { Redis } from 'ioredis';
import { DEFAULT_TRANSMISSION, exchangeLifetimeMs } from '../src/coap/params';
import type { Infra } from './e2e-infra';
import { onAbort } from './e2e-infra';
import type { E2eParams } from './e2e-params';
import type { E2eCommand, E2eReply } from './e2e-protocol';
import { shareOf } from './generator';
import { canBind, measure, measureIdle, settledGc, type HeapMeasure } from './heap-phase';
import { SERVER_HOST, ServerProcess, type GcResult } from './server-process';
import { concatSamples, summarize, type LatencySummary } from './stats';
import type { WorkerPool } from './worker-pool';

export interface E2eHeapLevel {
  readonly devices: number;
  readonly registered: number;
  readonly observed: number;
  readonly serverCount: number;
  readonly registrationsPerSecond: number;
  readonly registrationLatency: LatencySummary;
  readonly baseline: { readonly heapUsedBytes: number; readonly rssBytes: number };
  readonly fresh: HeapMeasure;
  readonly idle?: HeapMeasure;
  /** Redis INFO used_memory growth per device (registration, indexes, observation). */
  readonly redisBytesPerDevice: number | undefined;
}

export interface E2eHeapResult {
  readonly mode: string;
  readonly bindAddresses: string;
  readonly exchangeLifetimeS: number;
  readonly levels: E2eHeapLevel[];
}

export async function runE2eHeap(
  p: E2eParams,
  pool: WorkerPool<E2eCommand, E2eReply>,
  infra: Infra,
  env: (level: number) => Record<string, string>,
  log: (s: string) => void,
): Promise<E2eHeapResult> {
  const distinct = await canBind('127.1.0.1');
  const lifetimeMs = exchangeLifetimeMs(DEFAULT_TRANSMISSION);
  const transmission = {
    COAP_ACK_TIMEOUT_MS: String(DEFAULT_TRANSMISSION.ackTimeoutMs),
    COAP_ACK_RANDOM_FACTOR: String(DEFAULT_TRANSMISSION.ackRandomFactor),
    COAP_MAX_RETRANSMIT: String(DEFAULT_TRANSMISSION.maxRetransmit),
  };
  const redis = new Redis(infra.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  const servers: ServerProcess[] = [];
  const releases: Array<() => void> = [];
  try {
    for (const level of p.heapLevels) {
      const e = env(level);
      await infra.prepareBridgeTopics(e.KAFKA_TOPIC_PREFIX ?? '');
      const s = await ServerProcess.start({ env: { ...e, ...transmission } });
      servers.push(s);
      releases.push(onAbort(() => s.killNow()));
      await s.waitReady(60_000);
    }
    const baselines = await Promise.all(servers.map((s) => settledGc(s)));
    const levels: E2eHeapLevel[] = [];
    let lastRegistrationMs = 0;
    let batchOffset = 0;
    for (const [i, devices] of p.heapLevels.entries()) {
      const server = servers[i] as ServerProcess;
      const base = baselines[i] as GcResult;
      const redisBefore = await usedMemory(redis);
      const shares = Array.from({ length: pool.size }, (_, w) => shareOf(devices, pool.size, w));
      const address = (k: number): string => (distinct ? `127.1.${Math.floor(k / 250)}.${(k % 250) + 1}` : SERVER_HOST);
      log(`  registering ${devices} devices in batches of ${p.heapBatch} sockets, each batch closed once observed`);
      const firstBatch = shares.map(
        (_, w) => batchOffset + shares.slice(0, w).reduce((n, sh) => n + Math.ceil(sh.count / p.heapBatch), 0),
      );
      batchOffset += shares.reduce((n, sh) => n + Math.ceil(sh.count / p.heapBatch), 0);
      const replies = await pool.all('registered-observed', (w) => {
        const share = shares[w] as { first: number; count: number };
        return {
          kind: 'register-observed-batched',
          target: { address: SERVER_HOST, port: server.coapPort },
          loop: { window: Math.max(1, Math.ceil(p.window / pool.size)), timeoutMs: p.timeoutMs },
          bindAddresses: Array.from({ length: Math.ceil(share.count / p.heapBatch) }, (_, b) =>
            address((firstBatch[w] as number) + b),
          ),
          firstIndex: share.first,
          count: share.count,
          batchSize: p.heapBatch,
          observeTimeoutMs: p.observeTimeoutS * 1000,
          format: p.format,
          endpointPrefix: `e2e-heap${devices}-`,
          lifetimeS: p.lifetimeS,
          retries: p.registerRetries,
        };
      });
      const startMs = Math.min(...replies.map((r) => r.startWallMs));
      lastRegistrationMs = Math.max(...replies.map((r) => r.endWallMs));
      const registered = replies.reduce((n, r) => n + r.registered, 0);
      const observed = replies.reduce((n, r) => n + r.observed, 0);
      const serverCount = await server.registrationCount();
      const fresh = measure(await settledGc(server), base, serverCount);
      const redisAfter = await usedMemory(redis);
      const redisBytesPerDevice =
        redisBefore === undefined || redisAfter === undefined
          ? undefined
          : Math.round((redisAfter - redisBefore) / Math.max(1, serverCount));
      log(
        `  ${serverCount} registered, ${observed} observed: ${fresh.perDeviceBytes} B/device (fresh), heapUsed ${mb(fresh.heapUsedBytes)} MB, RSS ${mb(fresh.rssBytes)} MB; Redis ${redisBytesPerDevice ?? '?'} B/device`,
      );
      levels.push({
        devices,
        registered,
        observed,
        serverCount,
        registrationsPerSecond: Math.round(registered / ((lastRegistrationMs - startMs) / 1000)),
        registrationLatency: summarize(concatSamples(replies.map((r) => r.latenciesMs))),
        baseline: { heapUsedBytes: base.heapUsed, rssBytes: base.rss },
        fresh,
        redisBytesPerDevice,
      });
    }
    if (p.idle) await measureIdle(levels, servers, baselines, lastRegistrationMs, lifetimeMs, log);
    return {
      mode: 'Redis store + Kafka bus + profile (each device observed), one bridge process per level',
      bindAddresses: distinct ? '127.1.x.y, one per batch of sockets' : `${SERVER_HOST} only`,
      exchangeLifetimeS: lifetimeMs / 1000,
      levels,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const r of releases) r();
    redis.disconnect();
  }
}

async function usedMemory(redis: Redis): Promise<number | undefined> {
  const m = /^used_memory:(\d+)/m.exec(await redis.info('memory').catch(() => ''));
  return m ? Number(m[1]) : undefined;
}

const mb = (b: number): string => (b / 1048576).toFixed(1);
