/**
 * Builds a running bridge from a Config: the one place where adapters are chosen and wired.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/env';
import { createDefaultCodecs } from './lwm2m/codec/default-codecs';
import { createModelRegistry } from './lwm2m/model/builtin';
import { createHttpApi } from './http/api';
import type { Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { Lwm2mServer } from './server/lwm2m-server';
import { MemoryRegistrationStore } from './store/memory-registration-store';
import { MemoryObservationStore } from './store/observation-store';
import { UdpTransport } from './transport/udp';
import { szxFor } from './coap/options';

export interface App {
  readonly server: Lwm2mServer;
  readonly coapPort: number;
  readonly httpPort?: number;
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const models = await createModelRegistry(config.LWM2M_MODELS_DIR ? { modelsDir: config.LWM2M_MODELS_DIR } : {});
  for (const e of models.errors) log.warn({ err: e.message }, 'object model file rejected');
  const transport = await UdpTransport.bind({
    host: config.COAP_HOST,
    port: config.COAP_PORT,
    recvBufferSize: config.COAP_RECV_BUFFER_BYTES,
    sendBufferSize: config.COAP_RECV_BUFFER_BYTES,
    onError: (err) => log.warn({ err: err.message }, 'udp socket error'),
  });
  const registrations = new MemoryRegistrationStore();
  const server = new Lwm2mServer({
    transport,
    registrations,
    observations: new MemoryObservationStore(),
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
    coapEvents: { onDrop: (reason, peer, detail) => log.debug({ reason, peer, detail }, 'coap drop') },
    onError: (err, context) => log.error({ err: err instanceof Error ? err.message : String(err), context }, 'server error'),
  });
  server.events.on((e) => {
    if (e.type === 'registered' || e.type === 'deregistered' || e.type === 'expired') {
      log.info({ event: e.type, endpoint: e.registration.endpoint, id: e.registration.id }, 'registration');
    }
  });
  server.start();
  const coapPort = transport.local().port;
  let http: Server | undefined;
  let httpPort: number | undefined;
  if (config.HTTP_PORT >= 0) {
    const metrics = createMetrics({
      coap: server.endpoint.stats,
      events: server.events,
      registrations: () => registrations.count(),
      reassemblies: () => server.blockwiseServer.reassemblies,
    });
    http = createHttpApi({ metrics, registrations, ready: () => true, debugEndpoints: config.DEBUG_ENDPOINTS });
    const h = http;
    await new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve());
    });
    httpPort = (h.address() as AddressInfo).port;
  }
  log.info({ coap: { host: config.COAP_HOST, port: coapPort }, http: httpPort === undefined ? null : { host: config.HTTP_HOST, port: httpPort } }, 'listening');
  return {
    server,
    coapPort,
    ...(httpPort !== undefined ? { httpPort } : {}),
    async stop() {
      await server.stop();
      if (http) await new Promise<void>((resolve) => http?.close(() => resolve()));
    },
  };
}
