/**
 * The protections against the worst devices (DESIGN invariant 5), from configuration:
 * - per source address, every datagram of both ports, before parsing (RATE_LIMIT_SOURCE_*):
 *   dropped over the rate;
 * - per source address, DTLS handshakes started (RATE_LIMIT_HANDSHAKE_*): cookie-verified
 *   ClientHellos over the rate are dropped before any session lookup or key exchange;
 * - per source address, requests (RATE_LIMIT_SOURCE_REQUESTS_*), and per endpoint, requests
 *   (RATE_LIMIT_ENDPOINT_*; key: src/server/request-key.ts), before any store access: a CON over
 *   either rate gets 5.03 with Max-Age, a NON is dropped. Requests are what costs Redis work
 *   (a Register several writes); notifications and responses are not requests;
 * - message size and option count (COAP_MAX_MESSAGE_BYTES, COAP_MAX_OPTIONS) and block-wise bytes
 *   per source (COAP_MAX_REASSEMBLY_BYTES_PER_SOURCE).
 * Everything turned away is counted by reason (lwm2m_limited_total) and summarised in one log line
 * a minute at most, never one per datagram.
 */
import type { RequestHandler } from '../coap/endpoint';
import { limitRequests } from '../coap/request-limiter';
import type { Config } from '../config/env';
import type { Logger } from '../observability/logger';
import { endpointKeyOf } from '../server/request-key';
import { SourceGuard } from '../transport/guarded-transport';
import { LimitCounters, type LimitReason } from '../transport/limit-counters';
import { TokenBuckets } from '../transport/token-buckets';
import { displayAddress, type Peer } from '../transport/types';

export const LIMIT_SUMMARY_INTERVAL_MS = 60_000;

export interface Limits {
  readonly counters: LimitCounters;
  /** The per-source datagram rate on the main thread; undefined when RATE_LIMIT_SOURCE_PER_S is 0. */
  readonly guard?: SourceGuard;
  /** The same rate for a socket on its own thread, applied there (src/transport/socket-worker.ts), and its drop counter. */
  readonly threaded?: {
    readonly sourceRate: { readonly perSecond: number; readonly burst: number; readonly maxKeys: number };
    readonly onDropped: (count: number) => void;
  };
  readonly admitHandshake?: (peer: Peer) => boolean;
  readonly limitRequests?: (inner: RequestHandler) => RequestHandler;
  readonly coap: { readonly maxMessageBytes: number; readonly maxOptions: number; readonly limits: LimitCounters };
  /** Source buckets held. */
  sources(): number;
  stop(): void;
}

export function createLimits(config: Config, log: Logger, clock: () => number = Date.now): Limits {
  const counters = new LimitCounters();
  const max = config.RATE_LIMIT_MAX_KEYS;
  const buckets = (perSecond: number, burst: number): TokenBuckets =>
    new TokenBuckets({ perSecond, burst }, max, clock);
  const sourceBuckets = buckets(config.RATE_LIMIT_SOURCE_PER_S, config.RATE_LIMIT_SOURCE_BURST);
  const handshakeBuckets = buckets(config.RATE_LIMIT_HANDSHAKE_PER_S, config.RATE_LIMIT_HANDSHAKE_BURST);
  const sourceRequestBuckets = buckets(
    config.RATE_LIMIT_SOURCE_REQUESTS_PER_S,
    config.RATE_LIMIT_SOURCE_REQUESTS_BURST,
  );
  const endpointBuckets = buckets(config.RATE_LIMIT_ENDPOINT_PER_S, config.RATE_LIMIT_ENDPOINT_BURST);
  const summary = setInterval(summarise(counters, log), LIMIT_SUMMARY_INTERVAL_MS);
  summary.unref();
  return {
    counters,
    ...(sourceBuckets.enabled
      ? {
          guard: new SourceGuard(sourceBuckets, counters),
          threaded: {
            sourceRate: { ...sourceBuckets.rate, maxKeys: max },
            onDropped: (n: number) => counters.count('source-rate', n),
          },
        }
      : {}),
    ...(handshakeBuckets.enabled
      ? {
          admitHandshake: (peer: Peer) => {
            if (handshakeBuckets.take(displayAddress(peer.address))) return true;
            counters.count('handshake-rate');
            return false;
          },
        }
      : {}),
    limitRequests: (inner: RequestHandler) => {
      let h = inner;
      if (endpointBuckets.enabled) h = limitRequests(h, { buckets: endpointBuckets, keyOf: endpointKeyOf, counters });
      if (sourceRequestBuckets.enabled)
        h = limitRequests(h, {
          buckets: sourceRequestBuckets,
          keyOf: (req) => displayAddress(req.peer.address),
          counters,
          reason: 'source-request-rate',
        });
      return h;
    },
    coap: { maxMessageBytes: config.COAP_MAX_MESSAGE_BYTES, maxOptions: config.COAP_MAX_OPTIONS, limits: counters },
    sources: () => sourceBuckets.size,
    stop: () => clearInterval(summary),
  };
}

/** One warn line per interval in which anything was turned away: counts by reason since the last. */
function summarise(counters: LimitCounters, log: Logger): () => void {
  const last = new Map<LimitReason, number>();
  return () => {
    const since: Partial<Record<LimitReason, number>> = {};
    let any = false;
    for (const [reason, n] of counters.counts) {
      const d = n - (last.get(reason) ?? 0);
      last.set(reason, n);
      if (d > 0) {
        since[reason] = d;
        any = true;
      }
    }
    if (any) log.warn({ limited: since, intervalS: LIMIT_SUMMARY_INTERVAL_MS / 1000 }, 'rate and size limits applied');
  };
}
