/**
 * Builds a running bridge from a Config: the one place where adapters are chosen and wired.
 *   stores (Redis | memory) · bus (Kafka | in-process) · LwM2M server · profiles · metrics · HTTP
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createBridgeBus } from './wiring/bus';
import { BusPublisher } from './wiring/bus-publisher';
import { publishLifecycleEvents } from './wiring/lifecycle-events';
import { ProfileLayer } from './wiring/profiles';
import { createStores } from './wiring/stores';
import { BusUnavailableError } from './bus/types';
import { szxFor } from './coap/options';
import type { Config } from './config/env';
import { createHttpApi } from './http/api';
import { createDefaultCodecs } from './lwm2m/codec/default-codecs';
import { createModelRegistry } from './lwm2m/model/builtin';
import { registerBusMetrics, registerRedisMetrics } from './observability/bridge-metrics';
import type { Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { RpcExecutor } from './rpc/executor';
import { rpcIntake, type RpcIntakeStats } from './rpc/rpc-intake';
import { RpcService } from './rpc/rpc-service';
import { registerRpcMetrics } from './observability/rpc-metrics';
import { LwM2mServer } from './server/lwm2m-server';
import { SocketThreadTransport } from './transport/socket-thread';
import { UdpTransport } from './transport/udp';
import { DtlsTransport } from './dtls/dtls-transport';
import { DualTransport } from './transport/dual-transport';
import { CookieJar } from './dtls/cookie';
import { dtlsCredentials, provisionedMode } from './wiring/security';
import { loadDtlsIdentity } from './wiring/dtls-identity';
import { DtlsEventCounter, registerDtlsMetrics } from './observability/dtls-metrics';
import { runShutdown, type ShutdownReport } from './wiring/shutdown';
import { errorMessage } from './common/error-message';

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
  let busMetrics: { observeProduceLatency(ms: number): void } | undefined;
  const { created, topics } = createBridgeBus(config, log, (ms) => busMetrics?.observeProduceLatency(ms));
  const bus = created.bus;
  busMetrics = registerBusMetrics(metrics, () => bus.stats());
  if (stores.redisStats) registerRedisMetrics(metrics, stores.redisStats);
  if (created.kind === 'kafka') {
    created.bus.start().catch((err: unknown) => log.error({ err: String(err) }, 'kafka start failed'));
    await created.bus.ensureCompactedTopics([topics.devices, topics.profiles]).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'could not create the provisioning topics');
    });
  }
  const busAvailable = (): boolean => created.kind === 'memory' || bus.stats().available;
  const profiles = new ProfileLayer(config, log, new BusPublisher(bus, topics), stores.provisioning);

  const socketOptions = {
    host: config.COAP_HOST,
    recvBufferSize: config.COAP_RECV_BUFFER_BYTES,
    sendBufferSize: config.COAP_RECV_BUFFER_BYTES,
    onError: (err: Error) => log.warn({ err: err.message }, 'udp socket error'),
    batchIntervalMs: config.UDP_SOCKET_THREAD_INTERVAL_MS,
  };
  const plain = config.UDP_SOCKET_THREAD === 'all' ? await SocketThreadTransport.bind({ ...socketOptions, port: config.COAP_PORT }) : await UdpTransport.bind({ ...socketOptions, port: config.COAP_PORT });
  const dtlsEvents = new DtlsEventCounter();
  const secure =
    config.COAPS_PORT < 0
      ? undefined
      : await DtlsTransport.bind({
          ...socketOptions,
          port: config.COAPS_PORT,
          socketThread: config.UDP_SOCKET_THREAD !== 'none',
          credentials: dtlsCredentials(stores.provisioning),
          ...(dtlsIdentity.server !== undefined ? { serverIdentity: dtlsIdentity.server } : {}),
          trustAnchors: dtlsIdentity.trustAnchors,
          ...(config.DTLS_SHARED_SECRET !== '' ? { cookies: new CookieJar(Buffer.from(config.DTLS_SHARED_SECRET, 'utf8')) } : {}),
          // Connections continue on any instance: their state is in Redis, sealed under the shared secret.
          ...(config.DTLS_SHARED_SECRET !== '' && stores.dtlsSessions !== undefined ? { shared: stores.dtlsSessions(Buffer.from(config.DTLS_SHARED_SECRET, 'utf8'), config.DTLS_SESSION_TTL_MS) } : {}),
          cidLength: config.DTLS_CID_LENGTH,
          maxHandshakes: config.DTLS_MAX_HANDSHAKES,
          idleMs: config.DTLS_IDLE_TIMEOUT_MS,
          maxConnections: config.DTLS_MAX_CONNECTIONS,
          onEvent: (e) => dtlsEvents.on(e, log),
        });
  if (secure !== undefined && config.DTLS_SHARED_SECRET === '' && stores.kind === 'redis') {
    log.warn('DTLS_SHARED_SECRET is not set: DTLS cookies and sessions stay on their instance (a device moved to another instance makes a new handshake)');
  }
  const dual = secure === undefined ? undefined : new DualTransport(plain, secure);
  const transport = dual ?? plain;
  const server = new LwM2mServer({
    transport,
    registrations: stores.registrations,
    observations: stores.observations,
    codecs: createDefaultCodecs(),
    model: models.registry,
    transmission: { ackTimeoutMs: config.COAP_ACK_TIMEOUT_MS, ackRandomFactor: config.COAP_ACK_RANDOM_FACTOR, maxRetransmit: config.COAP_MAX_RETRANSMIT },
    maxPeers: config.COAP_MAX_PEERS,
    blockSzx: szxFor(config.COAP_BLOCK_SIZE),
    maxBodyBytes: config.COAP_MAX_BODY_BYTES,
    maxReassemblies: config.COAP_MAX_REASSEMBLIES,
    maxReassemblyBytes: config.COAP_MAX_REASSEMBLY_BYTES,
    requestTimeoutMs: config.LWM2M_REQUEST_TIMEOUT_MS,
    expiryGraceMs: config.LWM2M_EXPIRY_GRACE_MS,
    expirySweepMs: config.LWM2M_EXPIRY_SWEEP_MS,
    retryAfterS: config.RETRY_AFTER_S,
    sendSink: profiles.sendSink,
    provisionedMode: provisionedMode(stores.provisioning),
    admitRegistration: () => {
      if (!busAvailable()) throw new BusUnavailableError('Kafka is unavailable: registrations are refused until it is back');
    },
    coapEvents: { onDrop: (reason, peer, detail) => log.debug({ reason, peer, detail }, 'coap drop') },
    onError: (err, context) => log.error({ err: errorMessage(err), context }, 'server error'),
  });
  server.events.on((e) => {
    if (e.type === 'registered' || e.type === 'deregistered' || e.type === 'expired') {
      log.info({ event: e.type, endpoint: e.registration.endpoint, id: e.registration.id }, 'registration');
    }
  });
  publishLifecycleEvents(server.events, bus, topics, (err, endpoint) => log.warn({ err: errorMessage(err), endpoint }, 'event not published'));
  await profiles.start(server, bus, topics, created.kind === 'kafka');
  server.start();

  const rpcStats: RpcIntakeStats = { taken: 0, rejected: 0, duplicates: 0, retries: 0 };
  const rpcMetrics = registerRpcMetrics(metrics, rpcStats);
  const rpc = new RpcService({
    executor: new RpcExecutor({
      server,
      model: models.registry,
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
    onResponse: (res, ms) => rpcMetrics.observeResponse(res, ms),
    publish: (records) => bus.publish(records),
    topics: { responses: topics.rpcResponses, events: topics.events },
    events: server.events,
    defaultTimeoutMs: config.RPC_DEFAULT_TIMEOUT_MS,
    awakeMs: config.LWM2M_QUEUE_AWAKE_MS,
    onError: (err, context) => log.warn({ err: errorMessage(err), context }, 'rpc error'),
  });
  const rpcGroup = config.KAFKA_RPC_GROUP_ID || `${config.KAFKA_CLIENT_ID}.rpc`;
  let stopping = false;
  let consumeRetry: NodeJS.Timeout | undefined;
  const consumeRpc = (): void => {
    if (stopping) return;
    bus.consume(topics.rpcRequests, rpcGroup, rpcIntake(rpc, rpcStats, { stopping: () => stopping })).catch((err: unknown) => {
      if (stopping) return;
      log.warn({ err: errorMessage(err), topic: topics.rpcRequests }, 'cannot consume RPC requests yet; retrying in 5 s');
      consumeRetry = setTimeout(consumeRpc, 5000).unref();
    });
  };

  consumeRpc();
  const ready = (): boolean => !stopping && stores.ready() && busAvailable();
  const coapPort = plain.local().port;
  const coapsPort = secure?.local().port;
  if (secure !== undefined) registerDtlsMetrics(metrics, dtlsEvents, secure, () => dual?.refusedPlain ?? 0);
  let http: Server | undefined;
  let httpPort: number | undefined;
  if (config.HTTP_PORT >= 0) {
    createMetrics(
      { coap: server.endpoint.stats, events: server.events, registrations: () => stores.registrations.count(), reassemblies: () => server.blockwiseServer.reassemblies },
      metrics,
    );
    const embedded = stores.kind === 'memory' && created.kind === 'memory';
    http = createHttpApi({
      metrics,
      registrations: stores.registrations,
      server,
      rpc,
      ...(embedded ? {} : { token: config.HTTP_API_TOKEN }),
      ready,
      serving: () => !stopping,
      debugEndpoints: config.DEBUG_ENDPOINTS,
    });
    const h = http;
    await new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
    });
    httpPort = (h.address() as AddressInfo).port;
  }
  log.info(
    { coap: { host: config.COAP_HOST, port: coapPort }, coaps: coapsPort === undefined ? null : { host: config.COAP_HOST, port: coapsPort }, http: httpPort === undefined ? null : { host: config.HTTP_HOST, port: httpPort }, store: stores.kind, bus: created.kind, instance: config.INSTANCE_ID },
    'listening',
  );
  return {
    server,
    coapPort,
    ...(coapsPort !== undefined ? { coapsPort } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
    ready,
    async stop() {
      // Not ready at once (invariant 1: the load balancer moves new traffic to the others).
      stopping = true;
      clearTimeout(consumeRetry);
      return runShutdown(
        [
          { name: 'drain', run: (left) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(left, config.SHUTDOWN_DRAIN_MS))) },
          // RPC requests not yet taken stay uncommitted on Kafka; those taken stay in the queue. The
          // instance leaves the peers at once: a request handed to it now would find no taker.
          {
            name: 'rpc intake',
            run: async () => {
              rpc.stop();
              await stores.peers.close();
            },
          },
          // Closing the endpoint cuts exchanges short: their requests go back to the queue.
          { name: 'coap sockets', run: () => server.stop() },
          { name: 'rpc hand-back', run: () => rpc.idle(), leftover: () => `${rpc.inFlight} device queue(s) still running here; their requests come back when their lease passes` },
          { name: 'profiles', run: () => profiles.stop() },
          { name: 'kafka flush', run: (left) => bus.close(left), leftover: () => `${bus.stats().bufferedRecords} record(s) not acknowledged` },
          { name: 'redis', run: () => stores.close() },
          {
            name: 'http',
            run: (left) =>
              new Promise<void>((resolve) => {
                if (http === undefined) return resolve();
                const h = http;
                h.close(() => resolve());
                h.closeIdleConnections();
                setTimeout(() => h.closeAllConnections(), Math.max(0, left - 50)).unref();
              }),
          },
        ],
        config.SHUTDOWN_TIMEOUT_MS,
      );
    },
  };
}
