/**
 * A per-key request rate (DESIGN invariant 5) as a layer around a request handler, applied before
 * the handler touches a store or decodes a payload. The key (the source address, or the
 * requesting endpoint, see src/server/request-key.ts) is the caller's choice. Over the rate:
 * - a CON request gets 5.03 Service Unavailable with Max-Age, the seconds until its bucket holds
 *   a token again (RFC 7252 §5.9.3.4): the sender parsed as a device and is told to back off; the
 *   answer is piggybacked and cached for its retransmissions (§4.5) like any other;
 * - a NON request is dropped (it expects no answer, §5.2.3).
 */
import type { LimitCounters, LimitReason } from '../transport/limit-counters';
import type { TokenBuckets } from '../transport/token-buckets';
import type { InboundRequest, RequestHandler } from './endpoint';
import { Code, MessageType, Opt } from './message';
import { uintOption } from './options';

export interface RequestLimiterOptions {
  readonly buckets: TokenBuckets;
  /** The key a request is limited by; undefined: the request is not limited here. */
  readonly keyOf: (req: InboundRequest) => string | undefined;
  readonly counters?: LimitCounters;
  /** What a refusal is counted as (default endpoint-rate). */
  readonly reason?: LimitReason;
}

export function limitRequests(inner: RequestHandler, opts: RequestLimiterOptions): RequestHandler {
  return (req, respond) => {
    const key = opts.keyOf(req);
    if (key === undefined || opts.buckets.take(key)) return inner(req, respond);
    opts.counters?.count(opts.reason ?? 'endpoint-rate');
    if (req.message.type !== MessageType.CON) return;
    const maxAgeS = Math.max(1, Math.ceil(opts.buckets.waitMs(key) / 1000));
    respond({ code: Code.SERVICE_UNAVAILABLE, options: [uintOption(Opt.MAX_AGE, maxAgeS)] });
  };
}
