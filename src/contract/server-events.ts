/**
 * Which server events (src/server/events.ts) become event records, and how. Notifications and
 * Send carry values and go through the profile mapping to telemetry/attributes instead.
 */
import type { ServerEvent } from '../server/events';
import { registrationSummary, type EventRecord } from './event-records';

/** The event record for a server event, or undefined when the event is not published as one. */
export function eventRecordFor(event: ServerEvent, now: number): EventRecord | undefined {
  switch (event.type) {
    case 'registered': {
      const reg = event.registration;
      const detail = event.replaced !== undefined ? { detail: { previousRegistrationId: event.replaced.id } } : {};
      return { endpoint: reg.endpoint, ts: now, type: 'registered', registration: registrationSummary(reg), ...detail };
    }
    case 'updated':
      return {
        endpoint: event.after.endpoint,
        ts: now,
        type: 'updated',
        registration: registrationSummary(event.after),
        detail: { addressChanged: event.addressChanged },
      };
    case 'deregistered':
    case 'expired':
      return {
        endpoint: event.registration.endpoint,
        ts: now,
        type: event.type,
        registration: registrationSummary(event.registration),
      };
    case 'observation-ended': {
      // Ends the bridge asked for, or that follow the registration's end, are not news; the device
      // dropping an established observation (RST, error or non-Observe notification) is.
      if (event.reason !== 'reset' && event.reason !== 'error-response' && event.reason !== 'not-observable')
        return undefined;
      const obs = event.observation;
      return {
        endpoint: obs.endpoint,
        ts: now,
        type: 'observe-lost',
        detail: {
          reason: event.reason,
          paths: [...obs.paths],
          ...(event.detail !== undefined ? { message: event.detail } : {}),
        },
      };
    }
    case 'format-fallback':
      return {
        endpoint: event.registration.endpoint,
        ts: now,
        type: 'capability-fallback',
        detail: {
          method: event.operation,
          reason: event.reason,
          contentFormat: event.contentFormat,
          fallbackContentFormat: event.fallbackContentFormat,
          message: `${event.operation} in content format ${event.contentFormat} refused (${event.reason}); sent again in ${event.fallbackContentFormat}`,
        },
      };
    default:
      return undefined;
  }
}
