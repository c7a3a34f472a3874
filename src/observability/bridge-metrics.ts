/**
 * Metrics of the bridge's dependencies: Kafka (buffer depth, availability, produce latency and
 * errors) and Redis (commands, errors, latency, commands per notification).
 */
import { Histogram, type Registry } from 'prom-client';
import type { BusStats } from '../bus/types';
import type { RedisStats, StoreOperation } from '../store';
import { pulledCounter, pulledGauge } from './pulled-metrics';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function registerBusMetrics(
  registry: Registry,
  stats: () => BusStats,
): { observeProduceLatency(ms: number): void } {
  const gauge = (name: string, help: string, read: (s: BusStats) => number): void =>
    pulledGauge(registry, name, help, () => read(stats()));
  gauge(
    'lwm2m_bus_buffered_records',
    'Records waiting for the bus (Kafka) to acknowledge them',
    (s) => s.bufferedRecords,
  );
  gauge('lwm2m_bus_buffered_bytes', 'Bytes waiting for the bus (Kafka)', (s) => s.bufferedBytes);
  gauge('lwm2m_bus_available', '1 while the bus accepts records, 0 while it applies back-pressure', (s) =>
    s.available ? 1 : 0,
  );
  gauge('lwm2m_bus_published_records', 'Records acknowledged by the bus since start', (s) => s.published);
  gauge('lwm2m_bus_failed_records', 'Records the bus refused or could not deliver since start', (s) => s.failed);
  gauge('lwm2m_bus_send_errors', 'Produce requests that failed (and were retried) since start', (s) => s.sendErrors);
  const latency = new Histogram({
    name: 'lwm2m_kafka_produce_seconds',
    help: 'publish() to Kafka acknowledgement',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return { observeProduceLatency: (ms) => latency.observe(ms / 1000) };
}

export function registerRedisMetrics(registry: Registry, stats: RedisStats): void {
  const latency = new Histogram({
    name: 'lwm2m_redis_command_seconds',
    help: 'Redis command latency by store operation',
    labelNames: ['operation'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const children = new Map<StoreOperation, Histogram.Internal<'operation'>>();
  stats.onLatency = (operation, ms) => {
    let child = children.get(operation);
    if (child === undefined) children.set(operation, (child = latency.labels({ operation })));
    child.observe(ms / 1000);
  };
  const counter = (name: string, help: string, read: () => number): void => pulledCounter(registry, name, help, read);
  counter('lwm2m_redis_commands_total', 'Redis commands sent', () => stats.commands);
  counter('lwm2m_redis_errors_total', 'Redis commands that failed', () => stats.errors);
  counter(
    'lwm2m_redis_stale_index_entries_total',
    'Index entries found pointing to a replaced or missing registration',
    () => stats.staleIndexEntries,
  );
  counter(
    'lwm2m_redis_expired_claimed_total',
    'Registrations this instance announced as expired',
    () => stats.expiredClaimed,
  );
  counter(
    'lwm2m_redis_cache_invalidations_total',
    'Cache invalidations received from other instances and applied',
    () => stats.invalidationsApplied,
  );
  counter(
    'lwm2m_redis_cache_invalidations_malformed_total',
    'Cache invalidation messages that could not be read',
    () => stats.invalidationsMalformed,
  );
  counter(
    'lwm2m_redis_cache_suspensions_total',
    'Times the record caches went off because the invalidation subscription was lost',
    () => stats.cacheSuspensions,
  );
  pulledGauge(
    registry,
    'lwm2m_redis_cache_coherent',
    '1 while the record caches are on (invalidation channel subscribed), 0 while they are bypassed',
    () => (stats.cacheCoherent ? 1 : 0),
  );
  pulledGauge(
    registry,
    'lwm2m_redis_commands_per_notification',
    'Redis commands per notification since start (cache hits make it < 1)',
    () => stats.commandsPerNotification(),
  );
}
