/**
 * DTLS metrics and logs from the engine's events: handshakes by result (failures by the alert
 * sent), records dropped by kind, connections and handshakes in progress, and datagrams the
 * CoAP layer could not send because the peer has no DTLS connection here. Reasons are logged at
 * debug level; they name identities, never keys.
 */
import type { Registry } from 'prom-client';
import type { DtlsEvent, DropKind } from '../dtls/dtls-server';
import type { DtlsTransport } from '../dtls/dtls-transport';
import type { Logger } from './logger';
import { pulledCounter, pulledGauge, pulledLabelledCounter } from './pulled-metrics';

export class DtlsEventCounter {
  handshakes = 0;
  continued = 0;
  storeFailures = 0;
  readonly failures = new Map<string, number>();
  readonly drops = new Map<DropKind, number>();

  on(e: DtlsEvent, log?: Logger): void {
    switch (e.type) {
      case 'handshake-done':
        this.handshakes++;
        log?.debug(
          {
            peer: `${e.peer.address}:${e.peer.port}`,
            suite: e.session.suite,
            mode: e.session.identity.mode,
            identity: e.session.identity.name,
            endpoint: e.session.identity.endpoint,
          },
          'dtls handshake done',
        );
        return;
      case 'handshake-failed':
        this.failures.set(e.alert, (this.failures.get(e.alert) ?? 0) + 1);
        log?.info(
          { peer: `${e.peer.address}:${e.peer.port}`, alert: e.alert, reason: e.reason },
          'dtls handshake failed',
        );
        return;
      case 'dropped':
        this.drops.set(e.kind, (this.drops.get(e.kind) ?? 0) + 1);
        log?.debug({ peer: `${e.peer.address}:${e.peer.port}`, kind: e.kind, reason: e.reason }, 'dtls record dropped');
        return;
      case 'continued':
        this.continued++;
        log?.debug(
          { peer: `${e.peer.address}:${e.peer.port}`, endpoint: e.session.identity.endpoint },
          'dtls connection continued from the shared store',
        );
        return;
      case 'store-failed':
        this.storeFailures++;
        log?.warn({ peer: `${e.peer.address}:${e.peer.port}`, reason: e.reason }, 'dtls shared store failed');
        return;
      case 'closed':
        return;
    }
  }
}

export function registerDtlsMetrics(
  registry: Registry,
  counts: DtlsEventCounter,
  transport: DtlsTransport,
  refusedPlain?: () => number,
): void {
  pulledCounter(registry, 'lwm2m_dtls_handshakes_total', 'DTLS handshakes completed', () => counts.handshakes);
  pulledLabelledCounter(
    registry,
    'lwm2m_dtls_handshake_failures_total',
    'DTLS handshakes that failed, by the alert sent (none: abandoned)',
    'alert',
    () => counts.failures,
  );
  pulledLabelledCounter(
    registry,
    'lwm2m_dtls_records_dropped_total',
    'DTLS records dropped, by kind (malformed, unauthentic, no-connection, unexpected, overload, rate-limited)',
    'kind',
    () => counts.drops,
  );
  pulledCounter(
    registry,
    'lwm2m_dtls_connections_continued_total',
    'DTLS connections taken over from another instance through the shared store (no handshake)',
    () => counts.continued,
  );
  pulledCounter(
    registry,
    'lwm2m_dtls_store_failures_total',
    'Shared DTLS session store operations that failed',
    () => counts.storeFailures,
  );
  pulledGauge(
    registry,
    'lwm2m_dtls_connections',
    'DTLS connections established on this instance',
    () => transport.dtls.connectionCount,
  );
  pulledGauge(
    registry,
    'lwm2m_dtls_handshakes_in_progress',
    'DTLS handshakes in progress on this instance',
    () => transport.dtls.handshakeCount,
  );
  pulledCounter(
    registry,
    'lwm2m_dtls_unsent_total',
    'Datagrams for a peer without a DTLS connection here (dropped)',
    () => transport.unsent + (refusedPlain?.() ?? 0),
  );
}
