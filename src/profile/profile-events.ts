/**
 * Events of the profile layer, per device. They go to listeners (metrics, logs) and, through the
 * Publisher, to the events topic. Listeners are called synchronously and must not throw.
 */
import type { EventDetail } from '../contract/event-records';
import type { JsonObject } from '../contract/values';
import type { ResourceType } from '../lwm2m/value';
import type { ObserveStrategy } from './schema';
import type { SkippedPath, VersionMismatch } from './plan';

export type ApplyReason = 'registered' | 'updated' | 'profile-changed' | 'assignment-changed';

export type ProfileEvent =
  | {
      readonly type: 'profile-applied';
      readonly reason: ApplyReason;
      readonly strategy: ObserveStrategy;
      readonly read: number;
      readonly attributesWritten: number;
      readonly observationsEstablished: number;
      readonly observationsKept: number;
      readonly observationsCancelled: number;
    }
  /** Profile paths the device did not announce in its object links: not read, observed or written. */
  | { readonly type: 'paths-skipped'; readonly paths: readonly SkippedPath[] }
  | { readonly type: 'version-mismatch'; readonly mismatches: readonly VersionMismatch[] }
  | {
      readonly type: 'observe-failed';
      readonly kind: 'single' | 'composite';
      readonly paths: readonly string[];
      readonly result?: string;
      readonly error?: string;
    }
  | {
      /** A composite operation failed; the setup goes on with one single-path operation per path. */
      readonly type: 'capability-fallback';
      readonly operation: 'Read-Composite' | 'Observe-Composite';
      readonly paths: readonly string[];
      readonly result?: string;
      readonly error?: string;
    }
  | {
      readonly type: 'read-failed';
      readonly paths: readonly string[];
      readonly result?: string;
      readonly error?: string;
    }
  | {
      readonly type: 'write-attributes-failed';
      readonly path: string;
      readonly result?: string;
      readonly error?: string;
    }
  /** No profile is assigned to the endpoint (`profile` undefined), or the assigned one is unknown. */
  | { readonly type: 'profile-missing'; readonly profile?: string }
  /** Values of an RPC-created observation that the profile has no key for (and would drop). */
  | {
      readonly type: 'notification';
      readonly paths: readonly string[];
      readonly values: JsonObject;
      readonly types: { readonly [path: string]: ResourceType };
    };

export type ProfileEventListener = (endpoint: string, profile: string | null, event: ProfileEvent) => void;

export class ProfileEvents {
  private listeners: ProfileEventListener[] = [];

  on(listener: ProfileEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(endpoint: string, profile: string | null, event: ProfileEvent): void {
    for (const l of this.listeners) l(endpoint, profile, event);
  }
}

/**
 * The `detail` of the events-topic record for a profile event (src/contract/event-records.ts);
 * the record's `type` is `event.type`.
 */
export function profileEventDetail(event: ProfileEvent): EventDetail {
  switch (event.type) {
    case 'observe-failed':
    case 'read-failed':
      return {
        reason: event.result ?? 'error',
        paths: [...event.paths],
        ...(event.error !== undefined ? { message: event.error } : {}),
      };
    case 'capability-fallback':
      return {
        reason: event.result ?? 'error',
        paths: [...event.paths],
        method: event.operation,
        message: `${event.operation} failed${event.error !== undefined ? ` (${event.error})` : ''}: one operation per path instead`,
      };
    case 'write-attributes-failed':
      return {
        reason: event.result ?? 'error',
        paths: [event.path],
        ...(event.error !== undefined ? { message: event.error } : {}),
      };
    case 'paths-skipped':
      return {
        reason: [...new Set(event.paths.map((p) => p.reason))].join(','),
        paths: event.paths.map((p) => p.path),
        message: event.paths.map((p) => `${p.path}: ${p.reason} (${p.uses.join(', ')})`).join('; '),
      };
    case 'version-mismatch':
      return {
        paths: event.mismatches.map((m) => m.path),
        message: event.mismatches.map((m) => `${m.path}: profile ${m.profile}, device ${m.device}`).join('; '),
      };
    case 'notification':
      return { paths: [...event.paths], values: event.values, types: { ...event.types } };
    case 'profile-missing':
      return {
        message: event.profile === undefined ? 'no profile assigned' : `profile "${event.profile}" is not known`,
      };
    case 'profile-applied':
      return {
        reason: event.reason,
        message: `${event.strategy}: ${event.read} read, ${event.attributesWritten} attributes written, observations ${event.observationsEstablished} established, ${event.observationsKept} kept, ${event.observationsCancelled} cancelled`,
      };
  }
}
