/**
 * The HTTP side when HTTP_PORT is not negative: Prometheus metrics, /healthz, /readyz,
 * /readyz/serving and the device API (src/http/api.ts). Outside embedded mode the device API
 * needs HTTP_API_TOKEN.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Config } from '../config/env';
import { createHttpApi } from '../http/api';
import { createMetrics } from '../observability/metrics';
import type { RpcService } from '../rpc/rpc-service';
import type { LwM2mServer } from '../server/lwm2m-server';
import type { Stores } from './stores';

export interface HttpParts {
  readonly metrics: Registry;
  readonly server: LwM2mServer;
  readonly stores: Stores;
  readonly rpc: RpcService;
  /** Redis and Kafka both in memory: the API is open. */
  readonly embedded: boolean;
  readonly ready: () => boolean;
  readonly serving: () => boolean;
}

export interface HttpPart {
  readonly port: number;
  /** Stops accepting, lets idle connections go, and cuts the others `budgetMs` later. */
  close(budgetMs: number): Promise<void>;
}

export async function startHttp(config: Config, parts: HttpParts): Promise<HttpPart | undefined> {
  if (config.HTTP_PORT < 0) return undefined;
  const { server, stores } = parts;
  createMetrics(
    {
      coap: server.endpoint.stats,
      events: server.events,
      registrations: () => stores.registrations.count(),
      reassemblies: () => server.blockwiseServer.reassemblies,
    },
    parts.metrics,
  );
  const http: Server = createHttpApi({
    metrics: parts.metrics,
    registrations: stores.registrations,
    server,
    rpc: parts.rpc,
    ...(parts.embedded ? {} : { token: config.HTTP_API_TOKEN }),
    ready: parts.ready,
    serving: parts.serving,
    debugEndpoints: config.DEBUG_ENDPOINTS,
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
  });
  return {
    port: (http.address() as AddressInfo).port,
    close: (budgetMs) =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeIdleConnections();
        setTimeout(() => http.closeAllConnections(), Math.max(0, budgetMs - 50)).unref();
      }),
  };
}
