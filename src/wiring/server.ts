/**
 * The LwM2M server from configuration: CoAP transmission parameters (RFC 7252 §4.8), block-wise
 * limits (RFC 7959), registration lifetimes and the hooks into the other parts: Send goes to the
 * profile layer, Register is refused while the bus is away (invariant: nothing acknowledged is lost).
 */
import { BusUnavailableError } from '../bus/types';
import { errorMessage } from '../common/error-message';
import { szxFor } from '../coap/options';
import type { Config } from '../config/env';
import { createDefaultCodecs } from '../lwm2m/codec/default-codecs';
import type { ObjectModelRegistry } from '../lwm2m/model/registry';
import type { Logger } from '../observability/logger';
import { LwM2mServer } from '../server/lwm2m-server';
import type { DatagramTransport } from '../transport/types';
import type { Limits } from './limits';
import type { ProfileLayer } from './profiles';
import { provisionedMode } from './security';
import type { Stores } from './stores';

export interface ServerParts {
  readonly transport: DatagramTransport;
  readonly stores: Stores;
  readonly model: ObjectModelRegistry;
  readonly profiles: ProfileLayer;
  readonly busAvailable: () => boolean;
  /** Rate and size limits (DESIGN invariant 5); none without. */
  readonly limits?: Limits;
}

export function createServer(config: Config, parts: ServerParts, log: Logger): LwM2mServer {
  const { stores } = parts;
  const server = new LwM2mServer({
    transport: parts.transport,
    registrations: stores.registrations,
    observations: stores.observations,
    capabilities: stores.capabilities,
    codecs: createDefaultCodecs(),
    model: parts.model,
    transmission: {
      ackTimeoutMs: config.COAP_ACK_TIMEOUT_MS,
      ackRandomFactor: config.COAP_ACK_RANDOM_FACTOR,
      maxRetransmit: config.COAP_MAX_RETRANSMIT,
      nstart: config.COAP_NSTART,
    },
    maxPeers: config.COAP_MAX_PEERS,
    blockSzx: szxFor(config.COAP_BLOCK_SIZE),
    maxBodyBytes: config.COAP_MAX_BODY_BYTES,
    maxReassemblies: config.COAP_MAX_REASSEMBLIES,
    maxReassemblyBytes: config.COAP_MAX_REASSEMBLY_BYTES,
    maxReassemblyBytesPerSource: config.COAP_MAX_REASSEMBLY_BYTES_PER_SOURCE,
    ...(parts.limits !== undefined ? { coapLimits: parts.limits.coap } : {}),
    ...(parts.limits?.limitRequests !== undefined ? { limitRequests: parts.limits.limitRequests } : {}),
    requestTimeoutMs: config.LWM2M_REQUEST_TIMEOUT_MS,
    separateResponseTimeoutMs: config.COAP_SEPARATE_RESPONSE_TIMEOUT_MS,
    expiryGraceMs: config.LWM2M_EXPIRY_GRACE_MS,
    expirySweepMs: config.LWM2M_EXPIRY_SWEEP_MS,
    retryAfterS: config.RETRY_AFTER_S,
    sendSink: parts.profiles.sendSink,
    provisionedMode: provisionedMode(stores.provisioning),
    admitRegistration: () => {
      if (!parts.busAvailable())
        throw new BusUnavailableError('Kafka is unavailable: registrations are refused until it is back');
    },
    coapEvents: { onDrop: (reason, peer, detail) => log.debug({ reason, peer, detail }, 'coap drop') },
    onError: (err, context) => log.error({ err: errorMessage(err), context }, 'server error'),
  });
  server.events.on((e) => {
    // Registers at debug: a fleet registering again after an outage would write a line per device
    // (the events topic has a record of each, lwm2m_events_total counts them).
    if (e.type === 'registered') {
      if (log.isLevelEnabled('debug'))
        log.debug({ event: e.type, endpoint: e.registration.endpoint, id: e.registration.id }, 'registration');
    } else if (e.type === 'deregistered' || e.type === 'expired') {
      log.info({ event: e.type, endpoint: e.registration.endpoint, id: e.registration.id }, 'registration');
    }
  });
  return server;
}
