/**
 * Kafka topic names (docs/kafka/README.md, "Topics"). Every name is `prefix + name`, with both
 * parts configurable, so several bridges can share one cluster.
 */
export interface Topics {
  /** Out: device values of profile "telemetry" keys. */
  readonly telemetry: string;
  /** Out: device values of profile "attribute" keys. */
  readonly attributes: string;
  /** Out: lifecycle events (registered, updated, deregistered, expired, observe-lost...). */
  readonly events: string;
  /** In: RPC requests. */
  readonly rpcRequests: string;
  /** Out: RPC responses. */
  readonly rpcResponses: string;
  /** In, compacted: provisioning per endpoint (credentials, profile). */
  readonly devices: string;
  /** In, compacted: profile definitions. */
  readonly profiles: string;
}

export type TopicNames = { readonly [K in keyof Topics]: string };

export const DEFAULT_TOPIC_PREFIX = 'lwm2m.';
export const DEFAULT_TOPIC_NAMES: TopicNames = {
  telemetry: 'telemetry',
  attributes: 'attributes',
  events: 'events',
  rpcRequests: 'rpc.requests',
  rpcResponses: 'rpc.responses',
  devices: 'devices',
  profiles: 'profiles',
};

/** Topics from a prefix and per-topic names (defaults for those not given). */
export function resolveTopics(prefix: string = DEFAULT_TOPIC_PREFIX, names: Partial<TopicNames> = {}): Topics {
  const n = { ...DEFAULT_TOPIC_NAMES, ...names };
  return {
    telemetry: prefix + n.telemetry,
    attributes: prefix + n.attributes,
    events: prefix + n.events,
    rpcRequests: prefix + n.rpcRequests,
    rpcResponses: prefix + n.rpcResponses,
    devices: prefix + n.devices,
    profiles: prefix + n.profiles,
  };
}
