/**
 * Messages between the benchmark's main thread and its load-generator workers.
 * Every command gets exactly one reply, in order.
 */
import type { SendFormat } from './coap-frames';

export interface Target {
  readonly address: string;
  readonly port: number;
}

export interface ClosedLoopOptions {
  /** Requests outstanding at most across this worker's devices (one per device at a time). */
  readonly window: number;
  /** A request unanswered after this is counted as a timeout (no retransmission). */
  readonly timeoutMs: number;
}

export type Command =
  /** Opens one socket per device, bound to `bindAddress` port 0 and connected to the server. */
  | {
      readonly kind: 'open';
      readonly target: Target;
      readonly bindAddress: string;
      readonly firstIndex: number;
      readonly count: number;
    }
  /** Registers every open device that is not registered yet, as fast as the window allows. */
  | {
      readonly kind: 'register';
      readonly loop: ClosedLoopOptions;
      readonly endpointPrefix: string;
      readonly lifetimeS: number;
      readonly retries: number;
    }
  /** Send (POST /dp) round-robin from the registered devices; counts responses in [warm-up end, end]. */
  | {
      readonly kind: 'send';
      readonly loop: ClosedLoopOptions;
      readonly format: SendFormat;
      /** Wall-clock start (performance.timeOrigin + now()), shared by all workers. */
      readonly startAtMs: number;
      readonly warmupMs: number;
      readonly durationMs: number;
    }
  /** Heap phase: registers `count` devices in batches of sockets that are closed after registering. */
  | {
      readonly kind: 'register-batched';
      readonly target: Target;
      readonly loop: ClosedLoopOptions;
      readonly bindAddresses: readonly string[];
      readonly firstIndex: number;
      readonly count: number;
      readonly batchSize: number;
      readonly endpointPrefix: string;
      readonly lifetimeS: number;
      readonly retries: number;
    }
  | { readonly kind: 'close' };

export interface LoopCounters {
  /** Requests sent (first transmissions; there are no retransmissions). */
  sent: number;
  /** 2.xx responses. */
  ok: number;
  /** Responses with another class, by code ("4.04": n). */
  errorCodes: Record<string, number>;
  timeouts: number;
  resets: number;
  /** Responses that came as an empty ACK plus a separate response (RFC 7252 §5.2.2). */
  separate: number;
  /** Datagrams matching no outstanding request (late answers after a timeout, duplicates). */
  stray: number;
}

export interface RegisterReply {
  readonly kind: 'registered';
  readonly counters: LoopCounters;
  readonly registered: number;
  readonly failed: number;
  readonly startWallMs: number;
  readonly endWallMs: number;
  readonly latenciesMs: Float64Array;
}

export interface SendReply {
  readonly kind: 'sent';
  /** Counters for requests whose response (or timeout) fell in the measured window. */
  readonly counters: LoopCounters;
  readonly measuredMs: number;
  /** Latencies of requests sent in the measured window and answered 2.xx. */
  readonly latenciesMs: Float64Array;
}

export type Reply =
  | { readonly kind: 'opened'; readonly count: number; readonly elapsedMs: number }
  | RegisterReply
  | SendReply
  | { readonly kind: 'closed' }
  | { readonly kind: 'error'; readonly message: string };

export function newCounters(): LoopCounters {
  return { sent: 0, ok: 0, errorCodes: {}, timeouts: 0, resets: 0, separate: 0, stray: 0 };
}

export function addCounters(into: LoopCounters, from: LoopCounters): void {
  into.sent += from.sent;
  into.ok += from.ok;
  into.timeouts += from.timeouts;
  into.resets += from.resets;
  into.separate += from.separate;
  into.stray += from.stray;
  for (const [k, v] of Object.entries(from.errorCodes)) into.errorCodes[k] = (into.errorCodes[k] ?? 0) + v;
}
