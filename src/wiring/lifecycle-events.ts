/**
 * Publishes the server's lifecycle events (registered, updated, deregistered, expired,
 * observe-lost) to the events topic. The device has already been answered; a record the bus
 * cannot take is counted and logged, never retried in a loop that could grow without bound.
 */
import { eventRecordFor } from '../contract/server-events';
import type { Topics } from '../bus/topics';
import type { Bus } from '../bus/types';
import type { ServerEvents } from '../server/events';

export function publishLifecycleEvents(
  events: ServerEvents,
  bus: Bus,
  topics: Topics,
  onFailure: (err: unknown, endpoint: string) => void,
): () => void {
  return events.on((event) => {
    const record = eventRecordFor(event, Date.now());
    if (record === undefined) return;
    bus
      .publish([{ topic: topics.events, key: record.endpoint, value: record }])
      .catch((err: unknown) => onFailure(err, record.endpoint));
  });
}
