/**
 * The profile layer's Publisher on top of the Bus: telemetry, attributes and event records as
 * the Kafka contract defines them (src/contract), key = endpoint.
 */
import type { EventRecord } from '../contract/event-records';
import type { TelemetryRecord } from '../contract/value-records';
import type { Topics } from '../bus/topics';
import type { Bus } from '../bus/types';
import { profileEventDetail, type ProfileEvent } from '../profile/profile-events';
import type { Publisher, ValueBatch } from '../profile/publisher';

export class BusPublisher implements Publisher {
  constructor(
    private readonly bus: Bus,
    private readonly topics: Topics,
  ) {}

  publishValues(batch: ValueBatch): Promise<void> {
    const { topic, endpoint, profile, ts, values, types, source } = batch;
    const value: TelemetryRecord = {
      endpoint,
      profile,
      ts,
      values,
      ...(types !== undefined ? { types } : {}),
      source: { paths: [...source.paths], op: source.op },
    };
    const name = topic === 'telemetry' ? this.topics.telemetry : this.topics.attributes;
    return this.bus.publish([{ topic: name, key: endpoint, value }]);
  }

  publishEvent(endpoint: string, _profileName: string | null, ts: number, event: ProfileEvent): Promise<void> {
    const record: EventRecord = { endpoint, ts, type: event.type, detail: profileEventDetail(event) };
    return this.bus.publish([{ topic: this.topics.events, key: endpoint, value: record }]);
  }
}
