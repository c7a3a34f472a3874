/**
 * Messages between the end-to-end benchmark's main thread and its device worker
 * (bench/e2e-worker.ts). Every command gets exactly one reply, in order.
 */
import type { ClosedLoopOptions, LoopCounters, RegisterReply, Target } from './protocol';

/** Content format of the observe responses and notifications: SenML JSON (110) or SenML CBOR (112). */
export type E2eFormat = 'senml-json' | 'senml-cbor';

export interface RegistrationSpec {
  readonly loop: ClosedLoopOptions;
  readonly endpointPrefix: string;
  readonly lifetimeS: number;
  readonly retries: number;
}

export type E2eCommand =
  /** Opens one socket per device (bound to `bindAddress`, connected to the bridge); sets the payload format. With `dtls`, each device makes a PSK handshake first (identity e2e-<index>). */
  | {
      readonly kind: 'open';
      readonly target: Target;
      readonly bindAddress: string;
      readonly firstIndex: number;
      readonly count: number;
      readonly format: E2eFormat;
      readonly dtls?: boolean;
    }
  /** Registers the open devices; each then answers the bridge's Observe with 2.05 + Observe. */
  | ({ readonly kind: 'register' } & RegistrationSpec)
  /** Waits until every registered device has an observation, or `timeoutMs`. */
  | { readonly kind: 'await-observed'; readonly timeoutMs: number }
  /**
   * CON notifications from the observed devices, round-robin, at most `loop.window` outstanding and
   * one per device, paced to `ratePerSecond` when > 0. Each value is the send time in ms since
   * `epochMs` (wall clock). Counts outcomes in [start + warm-up, + duration).
   */
  | {
      readonly kind: 'notify';
      readonly loop: ClosedLoopOptions;
      readonly ratePerSecond: number;
      readonly epochMs: number;
      readonly startAtMs: number;
      readonly warmupMs: number;
      readonly durationMs: number;
    }
  /** Heap phase: registers `count` devices from batches of sockets, each batch closed once its devices are observed. */
  | ({
      readonly kind: 'register-observed-batched';
      readonly target: Target;
      readonly bindAddresses: readonly string[];
      readonly firstIndex: number;
      readonly count: number;
      readonly batchSize: number;
      readonly observeTimeoutMs: number;
      readonly format: E2eFormat;
    } & RegistrationSpec)
  | { readonly kind: 'close' };

export interface NotifyCounters extends LoopCounters {
  /** CON notifications answered with RST: the bridge no longer knows the observation. */
  readonly lostObservations: number;
}

export interface ObservedReply {
  readonly kind: 'observed';
  readonly registered: number;
  readonly observed: number;
  /** Observe requests (GET Observe=0) answered, including duplicates. */
  readonly observeRequests: number;
  /** Other requests from the bridge (answered 4.05). */
  readonly otherRequests: number;
  readonly elapsedMs: number;
}

export interface NotifiedReply {
  readonly kind: 'notified';
  /** Outcomes inside the measured window (by the time of the outcome, as bench/closed-loop.ts counts). */
  readonly counters: NotifyCounters;
  /** Notifications sent inside the window and acknowledged: what the Kafka side should find. */
  readonly sentInWindowAcked: number;
  readonly measuredMs: number;
  /** Notification sent → empty ACK, for notifications sent inside the window. */
  readonly ackLatenciesMs: Float64Array;
}

export interface BatchedReply extends Omit<RegisterReply, 'kind'> {
  readonly kind: 'registered-observed';
  readonly observed: number;
}

export type E2eReply =
  | { readonly kind: 'opened'; readonly count: number; readonly elapsedMs: number }
  | RegisterReply
  | ObservedReply
  | NotifiedReply
  | BatchedReply
  | { readonly kind: 'closed' }
  | { readonly kind: 'error'; readonly message: string };
