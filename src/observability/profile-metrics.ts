/**
 * Metrics of the profile layer: its events by type (setup steps refused, paths skipped, composite
 * operations a device lacks...), counted as they are emitted.
 */
import { Counter, type Registry } from 'prom-client';
import type { ProfileEvents } from '../profile/profile-events';

export function registerProfileMetrics(registry: Registry, events: Pick<ProfileEvents, 'on'>): void {
  const byType = new Counter({
    name: 'lwm2m_profile_events_total',
    help: 'Profile-layer events by type (profile-applied, read-failed, observe-failed, capability-fallback...)',
    labelNames: ['type'],
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'lwm2m_capability_fallbacks_total',
    help: 'Composite operations a device failed during setup, continued path by path, by operation',
    labelNames: ['operation'],
    registers: [registry],
  });
  events.on((_endpoint, _profile, event) => {
    byType.inc({ type: event.type });
    if (event.type === 'capability-fallback') fallbacks.inc({ operation: event.operation });
  });
}
