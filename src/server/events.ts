/**
 * Typed events the server hands to whatever consumes them (the Kafka bridge, metrics, logs,
 * the HTTP API). Emission is synchronous and listeners must not throw.
 */
import type { Peer } from '../transport/types';
import type { LwM2mNode } from '../lwm2m/node';
import type { FormatFallback } from './downlink/format-sink';
import type { Observation } from './observation/observation-store';
import type { Registration } from './registration/registration';

export type NodesByPath = Map<string, LwM2mNode | null>;

export type ServerEvent =
  | { readonly type: 'registered'; readonly registration: Registration; readonly replaced?: Registration }
  | {
      readonly type: 'updated';
      readonly before: Registration;
      readonly after: Registration;
      readonly addressChanged: boolean;
    }
  | { readonly type: 'deregistered'; readonly registration: Registration }
  | { readonly type: 'expired'; readonly registration: Registration }
  | {
      readonly type: 'notification';
      readonly registration: Registration;
      readonly observation: Observation;
      /** Values by path; several entries for composite observations. */
      readonly nodes: NodesByPath;
      /** Time series when the payload carried timestamps (historical notifications). */
      readonly timestamped?: ReadonlyArray<{ timestamp?: number; nodes: NodesByPath }>;
      readonly sequence?: number;
    }
  | {
      readonly type: 'send';
      readonly registration: Registration;
      readonly entries: ReadonlyArray<{ timestamp?: number; nodes: NodesByPath }>;
    }
  | {
      readonly type: 'observation-ended';
      readonly observation: Observation;
      readonly reason:
        'reset' | 'cancelled' | 'deregistered' | 'replaced' | 'expired' | 'error-response' | 'not-observable';
      readonly detail?: string;
    }
  | ({ readonly type: 'format-fallback' } & FormatFallback)
  | {
      readonly type: 'rejected';
      readonly peer: Peer;
      readonly operation: string;
      readonly code: number;
      readonly reason: string;
    };

export type ServerEventListener = (event: ServerEvent) => void;

export class ServerEvents {
  private listeners: ServerEventListener[] = [];

  on(listener: ServerEventListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: ServerEvent): void {
    for (const l of this.listeners) l(event);
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }
}
