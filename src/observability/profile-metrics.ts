/**
 * Metrics of the profile layer: its events by type (setup steps refused, paths skipped, composite
 * operations a device lacks...), counted as they are emitted; and every fallback to what a device
 * can do, from the profile (composite operations) and from the server (content formats).
 */
import { Counter, type Registry } from 'prom-client';
import type { ProfileEvents } from '../profile/profile-events';
import type { SetupPacerStats } from '../profile/setup-pacer';
import { pulledGauge } from './pulled-metrics';
import type { ServerEvents } from '../server/events';

export function registerProfileMetrics(
  registry: Registry,
  events: Pick<ProfileEvents, 'on'>,
  server: Pick<ServerEvents, 'on'>,
  setupRequests?: () => SetupPacerStats,
): void {
  if (setupRequests !== undefined) {
    const help = 'Device-setup requests (PROFILE_SETUP_MAX_OUTSTANDING bounds them; one per device, RFC 7252 §4.7)';
    pulledGauge(
      registry,
      'lwm2m_profile_setup_requests_outstanding',
      `${help}: outstanding now`,
      () => setupRequests().outstanding,
    );
    pulledGauge(
      registry,
      'lwm2m_profile_setup_requests_outstanding_max',
      `${help}: most outstanding at once since start`,
      () => setupRequests().maxOutstanding,
    );
    pulledGauge(
      registry,
      'lwm2m_profile_setup_requests_waiting',
      `${help}: waiting for a slot now`,
      () => setupRequests().waiting,
    );
  }
  const byType = new Counter({
    name: 'lwm2m_profile_events_total',
    help: 'Profile-layer events by type (profile-applied, read-failed, observe-failed, capability-fallback...)',
    labelNames: ['type'],
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'lwm2m_capability_fallbacks_total',
    help:
      'Fallbacks to what a device can do, by operation and capability: composite (a composite operation failed, ' +
      'the setup went on path by path) or content-format (a format was refused, the request was sent in the next one)',
    labelNames: ['operation', 'capability'],
    registers: [registry],
  });
  events.on((_endpoint, _profile, event) => {
    byType.inc({ type: event.type });
    if (event.type === 'capability-fallback') fallbacks.inc({ operation: event.operation, capability: 'composite' });
  });
  server.on((event) => {
    if (event.type === 'format-fallback') fallbacks.inc({ operation: event.operation, capability: 'content-format' });
  });
}
