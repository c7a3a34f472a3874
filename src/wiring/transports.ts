/**
 * The datagram transports: the plain CoAP port (RFC 7252) on a UDP socket, on the main thread or
 * its own (UDP_SOCKET_THREAD), and, when COAPS_PORT is not negative, the CoAPS port (RFC 7252 §9)
 * on the DTLS engine; both as one DualTransport for the CoAP layer.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/env';
import { CookieJar } from '../dtls/cookie';
import { DtlsTransport } from '../dtls/dtls-transport';
import type { Logger } from '../observability/logger';
import { DtlsEventCounter } from '../observability/dtls-metrics';
import { DualTransport } from '../transport/dual-transport';
import { GuardedTransport } from '../transport/guarded-transport';
import { SocketThreadTransport } from '../transport/socket-thread';
import type { DatagramTransport } from '../transport/types';
import { UdpTransport } from '../transport/udp';
import type { DtlsIdentity } from './dtls-identity';
import type { Limits } from './limits';
import { dtlsCredentials } from './security';
import type { Stores } from './stores';

export interface Transports {
  /** What the LwM2M server is given: the dual transport when CoAPS is on, else the plain one. */
  readonly transport: DatagramTransport;
  readonly plain: DatagramTransport;
  readonly secure?: DtlsTransport;
  readonly dual?: DualTransport;
  readonly dtlsEvents: DtlsEventCounter;
}

export async function bindTransports(
  config: Config,
  stores: Stores,
  dtlsIdentity: DtlsIdentity,
  log: Logger,
  limits?: Limits,
): Promise<Transports> {
  warnIfBufferCapped(config.COAP_RECV_BUFFER_BYTES, log);
  const socketOptions = {
    host: config.COAP_HOST,
    recvBufferSize: config.COAP_RECV_BUFFER_BYTES,
    sendBufferSize: config.COAP_RECV_BUFFER_BYTES,
    onError: (err: Error) => log.warn({ err: err.message }, 'udp socket error'),
    batchIntervalMs: config.UDP_SOCKET_THREAD_INTERVAL_MS,
  };
  // Per-source rate where datagrams arrive (DESIGN invariant 5): on a socket's own thread when it
  // has one (dropped datagrams never reach the main thread; a budget per port), else on the main
  // thread (one budget for both ports).
  const guard = limits?.guard;
  const threaded = limits?.threaded ?? {};
  const plain =
    config.UDP_SOCKET_THREAD === 'all'
      ? await SocketThreadTransport.bind({ ...socketOptions, ...threaded, port: config.COAP_PORT })
      : guarded(await UdpTransport.bind({ ...socketOptions, port: config.COAP_PORT }), limits);
  const dtlsEvents = new DtlsEventCounter();
  if (config.COAPS_PORT < 0) return { transport: plain, plain, dtlsEvents };
  const secret = config.DTLS_SHARED_SECRET !== '' ? Buffer.from(config.DTLS_SHARED_SECRET, 'utf8') : undefined;
  const secure = await DtlsTransport.bind({
    ...socketOptions,
    port: config.COAPS_PORT,
    socketThread: config.UDP_SOCKET_THREAD !== 'none',
    credentials: dtlsCredentials(stores.provisioning),
    ...(dtlsIdentity.server !== undefined ? { serverIdentity: dtlsIdentity.server } : {}),
    trustAnchors: dtlsIdentity.trustAnchors,
    ...(secret !== undefined ? { cookies: new CookieJar(secret) } : {}),
    // Connections continue on any instance: their state is in Redis, sealed under the shared secret.
    ...(secret !== undefined && stores.dtlsSessions !== undefined
      ? { shared: stores.dtlsSessions(secret, config.DTLS_SESSION_TTL_MS) }
      : {}),
    cidLength: config.DTLS_CID_LENGTH,
    maxHandshakes: config.DTLS_MAX_HANDSHAKES,
    idleMs: config.DTLS_IDLE_TIMEOUT_MS,
    maxConnections: config.DTLS_MAX_CONNECTIONS,
    ...(config.UDP_SOCKET_THREAD !== 'none' ? threaded : guard !== undefined ? { guard } : {}),
    ...(limits?.admitHandshake !== undefined ? { admitHandshake: limits.admitHandshake } : {}),
    onEvent: (e) => dtlsEvents.on(e, log),
  });
  if (secret === undefined && stores.kind === 'redis') {
    log.warn(
      'DTLS_SHARED_SECRET is not set: DTLS cookies and sessions stay on their instance (a device moved to another instance makes a new handshake)',
    );
  }
  const dual = new DualTransport(plain, secure);
  return { transport: dual, plain, secure, dual, dtlsEvents };
}

/**
 * The kernel caps socket buffers at net.core.rmem_max without an error (socket(7) SO_RCVBUF): a
 * registration storm then overflows the smaller buffer and its Registers are lost until the devices
 * retransmit (bench/README.md "Registration storm"). Said once at start, with the fix.
 */
export function warnIfBufferCapped(wanted: number, log: Logger, path = '/proc/sys/net/core/rmem_max'): void {
  let max: number;
  try {
    max = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return; // not Linux, or not readable: nothing to say
  }
  if (Number.isFinite(max) && wanted > max)
    log.warn(
      { wanted, rmemMax: max },
      `COAP_RECV_BUFFER_BYTES=${wanted} is capped by the kernel at net.core.rmem_max=${max}: bursts beyond it are dropped; raise net.core.rmem_max on the node (sysctl) for registration storms`,
    );
}

function guarded(socket: DatagramTransport, limits: Limits | undefined): DatagramTransport {
  return limits?.guard !== undefined ? new GuardedTransport(socket, limits.guard) : socket;
}
