/**
 * The profile layer's Publisher on top of the Bus: telemetry, attributes and event records as
 * the Kafka contract defines them (src/contract), key = endpoint.
 */
import type { EventRecord } from '../contract/event-records';
import type { TelemetryRecord } from '../contract/value-records';
import type { Topics } from '../bus/topics';
import type { Bus } from '../bus/types';
import type { JsonObject } from '../profile/json-value';
import { profileEventDetail, type ProfileEvent } from '../profile/profile-events';
import type { Publisher, UplinkSource, ValueTypes } from '../profile/publisher';

export class BusPublisher implements Publisher {
  constructor(
    private readonly bus: Bus,
    private readonly topics: Topics,
  ) {}

  publishTelemetry(
    endpoint: string,
    profileName: string | null,
    ts: number,
    values: JsonObject,
    source: UplinkSource,
    types?: ValueTypes,
  ): Promise<void> {
    return this.bus.publish([
      {
        topic: this.topics.telemetry,
        key: endpoint,
        value: valueRecord(endpoint, profileName, ts, values, source, types),
      },
    ]);
  }

  publishAttributes(
    endpoint: string,
    profileName: string | null,
    ts: number,
    values: JsonObject,
    source: UplinkSource,
    types?: ValueTypes,
  ): Promise<void> {
    return this.bus.publish([
      {
        topic: this.topics.attributes,
        key: endpoint,
        value: valueRecord(endpoint, profileName, ts, values, source, types),
      },
    ]);
  }

  publishEvent(endpoint: string, _profileName: string | null, ts: number, event: ProfileEvent): Promise<void> {
    const record: EventRecord = { endpoint, ts, type: event.type, detail: profileEventDetail(event) };
    return this.bus.publish([{ topic: this.topics.events, key: endpoint, value: record }]);
  }
}

function valueRecord(
  endpoint: string,
  profile: string | null,
  ts: number,
  values: JsonObject,
  source: UplinkSource,
  types?: ValueTypes,
): TelemetryRecord {
  return {
    endpoint,
    profile,
    ts,
    values,
    ...(types !== undefined ? { types } : {}),
    source: { paths: [...source.paths], op: source.op },
  };
}
