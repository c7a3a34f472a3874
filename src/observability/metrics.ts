/**
 * Prometheus metrics. The core only counts (CoapStats fields) and emits server events; this
 * module turns both into metrics, reading counters at scrape time.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { CoapStats } from '../coap/stats';
import type { ServerEvent, ServerEvents } from '../server/events';
import { pulledCounter, pulledGauge } from './pulled-metrics';

type CounterField = { [K in keyof CoapStats]: CoapStats[K] extends number ? K : never }[keyof CoapStats];

const COAP_COUNTERS: ReadonlyArray<[CounterField, string]> = [
  ['datagramsIn', 'Datagrams received'],
  ['datagramsOut', 'Datagrams sent'],
  ['requestsIn', 'CoAP requests received from devices'],
  ['responsesIn', 'CoAP responses and notifications received'],
  ['duplicates', 'Duplicate messages detected (RFC 7252 §4.5)'],
  ['malformed', 'Malformed datagrams dropped or reset'],
  ['ignored', 'Messages silently ignored (unknown version, unmatched ACK)'],
  ['badOption', 'Requests rejected for an unknown critical option'],
  ['retransmissions', 'CON retransmissions of our messages'],
  ['timeouts', 'Our CON messages never acknowledged'],
  ['separateTimeouts', 'Our requests acknowledged (empty ACK) whose separate response did not come within the bound'],
  ['lateResponses', 'Separate responses that came after their request was given up (acknowledged, dropped)'],
  ['resetsIn', 'RST messages received'],
  ['resetsOut', 'RST messages sent'],
  ['unknownNotifications', 'Notifications with no matching observation (rejected)'],
  ['handlerErrors', 'Request handler exceptions'],
];

export interface MetricsSources {
  readonly coap: CoapStats;
  readonly events: ServerEvents;
  readonly registrations: () => Promise<number>;
  readonly reassemblies: () => number;
}

export function createMetrics(src: MetricsSources, registry: Registry = new Registry()): Registry {
  collectDefaultMetrics({ register: registry });
  for (const [field, help] of COAP_COUNTERS) {
    const name = `lwm2m_coap_${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
    pulledCounter(registry, name, help, () => src.coap[field]);
  }
  const TYPES = ['CON', 'NON', 'ACK', 'RST'];
  for (const [direction, counts] of [
    ['in', src.coap.inByTypeCode],
    ['out', src.coap.outByTypeCode],
  ] as const) {
    new Counter({
      name: `lwm2m_coap_messages_${direction}_total`,
      help: `CoAP messages ${direction === 'in' ? 'received' : 'sent'} by type and code`,
      labelNames: ['type', 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (let i = 0; i < counts.length; i++) {
          const n = counts[i] as number;
          if (n === 0) continue;
          const c = i & 0xff;
          this.inc({ type: TYPES[i >> 8] as string, code: `${c >> 5}.${String(c & 31).padStart(2, '0')}` }, n);
        }
      },
    });
  }
  pulledGauge(registry, 'lwm2m_registrations', 'Registered devices', () => src.registrations());
  pulledGauge(registry, 'lwm2m_blockwise_reassemblies', 'Block1 bodies being reassembled', () => src.reassemblies());
  const events = new Counter({
    name: 'lwm2m_events_total',
    help: 'Server events by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'lwm2m_rejected_requests_total',
    help: 'Device requests answered 4.xx',
    labelNames: ['operation', 'code'],
    registers: [registry],
  });
  // Label children are bound once per event type: no label hashing per event on the hot path.
  const byType = new Map<string, { inc(): void }>();
  src.events.on((e: ServerEvent) => {
    let child = byType.get(e.type);
    if (child === undefined) byType.set(e.type, (child = events.labels({ type: e.type })));
    child.inc();
    if (e.type === 'rejected')
      rejected.inc({
        operation: e.operation.startsWith('/rd') ? '/rd' : e.operation,
        code: `${e.code >> 5}.${String(e.code & 31).padStart(2, '0')}`,
      });
  });
  return registry;
}
