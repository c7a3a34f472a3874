/**
 * The part of the LwM2M server the profile layer uses: device-management operations and events.
 * `LwM2mServer` satisfies it; tests may pass a fake.
 */
import type { ServerEvents } from '../server/events';
import type { LwM2mServer } from '../server/lwm2m-server';

export type DeviceManagement = Pick<
  LwM2mServer,
  | 'registration'
  | 'capabilitiesOf'
  | 'learnCapability'
  | 'read'
  | 'readComposite'
  | 'writeAttributes'
  | 'observe'
  | 'observeComposite'
  | 'cancelObservations'
  | 'listObservations'
> & { readonly events: Pick<ServerEvents, 'on'> };

/** Failure callback: logged and counted by the application. */
export type FailureReporter = (err: unknown, context: string) => void;

export function isNotRegistered(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    (err as { code: unknown }).code === 'LWM2M_NOT_REGISTERED'
  );
}
