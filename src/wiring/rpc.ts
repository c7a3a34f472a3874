/**
 * RPC: requests consumed from the rpc.requests topic by a consumer group, queued per device and
 * run against it by whichever instance reaches it (docs/rpc-routing.md); responses published to
 * rpc.responses. The consumer is restarted every 5 s while Kafka refuses it.
 */
import type { Topics } from '../bus/topics';
import type { Bus } from '../bus/types';
import { errorMessage } from '../common/error-message';
import type { Config } from '../config/env';
import type { ObjectModelRegistry } from '../lwm2m/model/registry';
import type { Logger } from '../observability/logger';
import type { Registry } from 'prom-client';
import { registerRpcMetrics } from '../observability/rpc-metrics';
import { RpcExecutor } from '../rpc/executor';
import { rpcIntake, type RpcIntakeStats } from '../rpc/rpc-intake';
import { RpcService } from '../rpc/rpc-service';
import type { LwM2mServer } from '../server/lwm2m-server';
import type { ProfileLayer } from './profiles';
import type { Stores } from './stores';

const CONSUME_RETRY_MS = 5000;

export interface RpcParts {
  readonly server: LwM2mServer;
  readonly model: ObjectModelRegistry;
  readonly profiles: ProfileLayer;
  readonly stores: Stores;
  readonly bus: Bus;
  readonly topics: Topics;
  /** The Prometheus registry the RPC metrics join. */
  readonly metrics: Registry;
}

export interface RpcPart {
  readonly service: RpcService;
  /** Stops taking requests (those not yet taken stay uncommitted on Kafka). */
  stopIntake(): void;
}

export function startRpc(config: Config, parts: RpcParts, log: Logger): RpcPart {
  const { server, profiles, stores, bus, topics } = parts;
  const stats: RpcIntakeStats = { taken: 0, rejected: 0, duplicates: 0, retries: 0 };
  const metrics = registerRpcMetrics(parts.metrics, stats);
  const service = new RpcService({
    executor: new RpcExecutor({
      server,
      model: parts.model,
      profileFor: async (endpoint) => {
        const assignment = await profiles.assigner.resolve(endpoint);
        return assignment ? profiles.registry.get(assignment.profile) : undefined;
      },
    }),
    registration: (endpoint) => stores.registrations.getByEndpoint(endpoint),
    queue: stores.rpcQueue,
    peers: stores.peers,
    owner: (endpoint) => stores.owner(endpoint),
    markSeen: (endpoint, now) => stores.markSeen(endpoint, now),
    onForeignWrite: (listener) => stores.onForeignWrite(listener),
    onResponse: (res, ms) => metrics.observeResponse(res, ms),
    publish: (records) => bus.publish(records),
    topics: { responses: topics.rpcResponses, events: topics.events },
    events: server.events,
    defaultTimeoutMs: config.RPC_DEFAULT_TIMEOUT_MS,
    awakeMs: config.LWM2M_QUEUE_AWAKE_MS,
    onError: (err, context) => log.warn({ err: errorMessage(err), context }, 'rpc error'),
  });
  const group = config.KAFKA_RPC_GROUP_ID || `${config.KAFKA_CLIENT_ID}.rpc`;
  let stopping = false;
  let retry: NodeJS.Timeout | undefined;
  const consume = (): void => {
    if (stopping) return;
    bus
      .consume(topics.rpcRequests, group, rpcIntake(service, stats, { stopping: () => stopping }))
      .catch((err: unknown) => {
        if (stopping) return;
        log.warn(
          { err: errorMessage(err), topic: topics.rpcRequests },
          `cannot consume RPC requests yet; retrying in ${CONSUME_RETRY_MS / 1000} s`,
        );
        retry = setTimeout(consume, CONSUME_RETRY_MS).unref();
      });
  };
  consume();
  return {
    service,
    stopIntake() {
      stopping = true;
      clearTimeout(retry);
    },
  };
}
