/**
 * Metrics of the rate and size limits (DESIGN invariant 5): what they turned away, by reason
 * (src/transport/limit-counters.ts), and how many source buckets are held. Read at scrape time;
 * the limits never log per datagram (src/wiring/limits.ts logs a summary at most once a minute).
 */
import type { Registry } from 'prom-client';
import type { LimitCounters } from '../transport/limit-counters';
import { pulledGauge, pulledLabelledCounter } from './pulled-metrics';

export function registerLimitMetrics(registry: Registry, counters: LimitCounters, sources: () => number): void {
  pulledLabelledCounter(
    registry,
    'lwm2m_limited_total',
    'Datagrams and requests turned away by the rate and size limits, by reason (source-rate, handshake-rate, source-request-rate, endpoint-rate, message-too-large, too-many-options, body-too-large, source-reassembly)',
    'reason',
    () => counters.counts,
  );
  pulledGauge(registry, 'lwm2m_rate_limit_sources', 'Source addresses with a rate-limit bucket held', sources);
}
