/**
 * RPC metrics: requests taken from the bus (taken, rejected, duplicate, retried while the queue
 * was unreachable), final responses by method and result, and the time from taking a request to
 * its final response (Kafka record timestamp → response, queue-mode waiting included).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RpcResponseRecord } from '../contract/rpc-records';
import type { RpcIntakeStats } from '../rpc/rpc-intake';
import { pulledCounter } from './pulled-metrics';

const RPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 600, 3600];

export function registerRpcMetrics(
  registry: Registry,
  intake: RpcIntakeStats,
): { observeResponse(res: RpcResponseRecord, latencyMs: number): void } {
  pulledCounter(registry, 'lwm2m_rpc_requests_taken_total', 'RPC request records queued', () => intake.taken);
  pulledCounter(
    registry,
    'lwm2m_rpc_requests_rejected_total',
    'RPC request records answered BAD_REQUEST (validation)',
    () => intake.rejected,
  );
  pulledCounter(
    registry,
    'lwm2m_rpc_requests_duplicate_total',
    'RPC request records whose id was already taken (not run again)',
    () => intake.duplicates,
  );
  pulledCounter(
    registry,
    'lwm2m_rpc_queue_retries_total',
    'Attempts to queue an RPC request that failed on an unreachable store (retried)',
    () => intake.retries,
  );
  const responses = new Counter({
    name: 'lwm2m_rpc_responses_total',
    help: 'Final RPC responses by method and result',
    labelNames: ['method', 'result'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'lwm2m_rpc_response_seconds',
    help: 'Time from taking an RPC request to its final response, by method',
    labelNames: ['method'],
    buckets: RPC_BUCKETS,
    registers: [registry],
  });
  return {
    observeResponse(res, latencyMs) {
      responses.inc({ method: res.method, result: res.result });
      latency.observe({ method: res.method }, latencyMs / 1000);
    },
  };
}
