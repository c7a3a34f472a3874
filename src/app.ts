/**
 * Builds a running bridge from a Config: the one composition root. Each part is made by its
 * module in src/wiring/, in this order:
 *   stores (Redis | memory) · bus (Kafka | in-process) · profiles · transports (CoAP, CoAPS)
 *   · LwM2M server · lifecycle events · RPC · HTTP (metrics, health, device API)
 * and stopped in the order of `shutdownSteps` within SHUTDOWN_TIMEOUT_MS.
 */
import { Registry } from 'prom-client';
import type { Config } from './config/env';
import { errorMessage } from './common/error-message';
import { createModelRegistry } from './lwm2m/model/builtin';
import { registerBusMetrics, registerRedisMetrics } from './observability/bridge-metrics';
import { registerDtlsMetrics } from './observability/dtls-metrics';
import { registerLimitMetrics } from './observability/limit-metrics';
import { registerProfileMetrics } from './observability/profile-metrics';
import type { Logger } from './observability/logger';
import type { LwM2mServer } from './server/lwm2m-server';
import { createBridgeBus } from './wiring/bus';
import { BusPublisher } from './wiring/bus-publisher';
import { loadDtlsIdentity } from './wiring/dtls-identity';
import { startHttp } from './wiring/http';
import { publishLifecycleEvents } from './wiring/lifecycle-events';
import { createLimits } from './wiring/limits';
import { ProfileLayer } from './wiring/profiles';
import { startRpc } from './wiring/rpc';
import { createServer } from './wiring/server';
import { runShutdown, type ShutdownReport, type ShutdownStep } from './wiring/shutdown';
import { createStores } from './wiring/stores';
import { bindTransports } from './wiring/transports';

export interface App {
  readonly server: LwM2mServer;
  readonly coapPort: number;
  /** The CoAPS (DTLS) port, when CoAPS is on. */
  readonly coapsPort?: number;
  readonly httpPort?: number;
  ready(): boolean;
  /** SIGTERM: not ready at once, serve for SHUTDOWN_DRAIN_MS, hand back and flush; always within SHUTDOWN_TIMEOUT_MS. */
  stop(): Promise<ShutdownReport>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const dtlsIdentity = loadDtlsIdentity(config); // first: an unusable key stops the start before anything binds
  const models = await createModelRegistry(config.LWM2M_MODELS_DIR ? { modelsDir: config.LWM2M_MODELS_DIR } : {});
  for (const e of models.errors) log.warn({ err: e.message }, 'object model file rejected');
  const metrics = new Registry();

  const stores = createStores(config, log);
  if (stores.redisStats) registerRedisMetrics(metrics, stores.redisStats);

  // The bus reports produce latency to metrics that read the bus's own stats: tied after both exist.
  const latency: { observe?: (ms: number) => void } = {};
  const { created, topics } = createBridgeBus(config, log, (ms) => latency.observe?.(ms));
  const bus = created.bus;
  const busMetrics = registerBusMetrics(metrics, () => bus.stats());
  latency.observe = (ms) => busMetrics.observeProduceLatency(ms);
  if (created.kind === 'kafka') {
    created.bus.start().catch((err: unknown) => log.error({ err: errorMessage(err) }, 'kafka start failed'));
    await created.bus.ensureCompactedTopics([topics.devices, topics.profiles]).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'could not create the provisioning topics');
    });
  }
  const busAvailable = (): boolean => created.kind === 'memory' || bus.stats().available;

  const profiles = new ProfileLayer(config, log, new BusPublisher(bus, topics), stores.provisioning);
  const limits = createLimits(config, log);
  registerLimitMetrics(metrics, limits.counters, () => limits.sources());
  const transports = await bindTransports(config, stores, dtlsIdentity, log, limits);
  if (transports.secure !== undefined)
    registerDtlsMetrics(metrics, transports.dtlsEvents, transports.secure, () => transports.dual?.refusedPlain ?? 0);

  const server = createServer(
    config,
    { transport: transports.transport, stores, model: models.registry, profiles, busAvailable, limits },
    log,
  );
  registerProfileMetrics(metrics, profiles.events, server.events, () => profiles.setupRequests());
  publishLifecycleEvents(server.events, bus, topics, (err, endpoint) =>
    log.warn({ err: errorMessage(err), endpoint }, 'event not published'),
  );
  await profiles.start(server, bus, topics, created.kind === 'kafka');
  server.start();

  const rpc = startRpc(config, { server, model: models.registry, profiles, stores, bus, topics, metrics }, log);

  let stopping = false;
  const ready = (): boolean => !stopping && stores.ready() && busAvailable();
  const embedded = stores.kind === 'memory' && created.kind === 'memory';
  const http = await startHttp(config, {
    metrics,
    server,
    stores,
    rpc: rpc.service,
    embedded,
    ready,
    serving: () => !stopping,
  });

  const coapPort = transports.plain.local().port;
  const coapsPort = transports.secure?.local().port;
  log.info(
    {
      coap: { host: config.COAP_HOST, port: coapPort },
      coaps: coapsPort === undefined ? null : { host: config.COAP_HOST, port: coapsPort },
      http: http === undefined ? null : { host: config.HTTP_HOST, port: http.port },
      store: stores.kind,
      bus: created.kind,
      instance: config.INSTANCE_ID,
    },
    'listening',
  );

  const shutdownSteps: ShutdownStep[] = [
    {
      name: 'drain',
      run: (left) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(left, config.SHUTDOWN_DRAIN_MS))),
    },
    // RPC requests not yet taken stay uncommitted on Kafka; those taken stay in the queue. The
    // instance leaves the peers at once: a request handed to it now would find no taker.
    {
      name: 'rpc intake',
      run: async () => {
        rpc.service.stop();
        await stores.peers.close();
      },
    },
    // Closing the endpoint cuts exchanges short: their requests go back to the queue.
    { name: 'coap sockets', run: () => server.stop() },
    {
      name: 'rpc hand-back',
      run: () => rpc.service.idle(),
      leftover: () =>
        `${rpc.service.inFlight} device queue(s) still running here; their requests come back when their lease passes`,
    },
    { name: 'profiles', run: () => profiles.stop() },
    {
      name: 'kafka flush',
      run: (left) => bus.close(left),
      leftover: () => `${bus.stats().bufferedRecords} record(s) not acknowledged`,
    },
    { name: 'redis', run: () => stores.close() },
    { name: 'http', run: (left) => http?.close(left) ?? Promise.resolve() },
  ];
  return {
    server,
    coapPort,
    ...(coapsPort !== undefined ? { coapsPort } : {}),
    ...(http !== undefined ? { httpPort: http.port } : {}),
    ready,
    stop() {
      // Not ready at once (invariant 1: the load balancer moves new traffic to the others).
      stopping = true;
      rpc.stopIntake();
      return runShutdown(shutdownSteps, config.SHUTDOWN_TIMEOUT_MS);
    },
  };
}
