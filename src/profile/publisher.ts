/**
 * Where uplink records go. The application implements it on top of the Bus and the Kafka
 * contract (src/contract: telemetry, attributes and events records, key = endpoint). Each
 * call resolves once the record is accepted (at least once) and rejects with a retriable error
 * (BusUnavailableError) when the bus cannot take it now.
 */
import type { ResourceType } from '../lwm2m/value';
import type { JsonObject } from './json-value';
import type { ProfileEvent } from './profile-events';

/** The contract's `source.op`: a Read by the bridge, the first response to an Observe, a notification, a Send. */
export type UplinkOperation = 'read' | 'observe' | 'notify' | 'send';

/** Where the values came from (the record's `source`). */
export interface UplinkSource {
  readonly op: UplinkOperation;
  /** The paths read, observed or sent, without object versions ("/3303/0/5700"). */
  readonly paths: readonly string[];
}

/** LwM2M type by key, for keys whose value is one resource (the record's `types`). */
export type ValueTypes = { readonly [key: string]: ResourceType };

export interface Publisher {
  /**
   * `values`: key → typed JSON, as mapped by the profile. `profileName`: null when the device has
   * no profile (keys are then LwM2M paths). `ts`: Unix ms of the measurement.
   */
  publishTelemetry(
    endpoint: string,
    profileName: string | null,
    ts: number,
    values: JsonObject,
    source: UplinkSource,
    types?: ValueTypes,
  ): Promise<void>;
  publishAttributes(
    endpoint: string,
    profileName: string | null,
    ts: number,
    values: JsonObject,
    source: UplinkSource,
    types?: ValueTypes,
  ): Promise<void>;
  /** Profile-layer events (observe-failed, paths-skipped, ...); `profileName` null when none applies. */
  publishEvent(endpoint: string, profileName: string | null, ts: number, event: ProfileEvent): Promise<void>;
}
