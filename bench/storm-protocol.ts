/**
 * Messages between the registration-storm benchmark (bench/storm.ts) and its device processes
 * (bench/storm-devices.ts, forked with IPC). Each process holds its own sockets: `ulimit -n` is
 * per process, and 20,000 sockets do not fit in one. Every command gets exactly one reply.
 */
import type { Target } from './protocol';

export type StormCommand =
  /**
   * Opens one socket per device, connected to `target`, each bound to its own loopback address
   * 127.`net`.x.y (all of 127/8 is loopback on Linux): a fleet's devices have addresses of their own,
   * as the bridge's per-source limits (RATE_LIMIT_SOURCE_PER_S) expect.
   */
  | {
      readonly kind: 'open';
      readonly target: Target;
      readonly net: number;
      readonly firstIndex: number;
      readonly count: number;
      readonly endpointPrefix: string;
      readonly lifetimeS: number;
    }
  /**
   * At `startAtMs` (wall clock), every device sends its Register (CON, retransmitted as RFC 7252
   * §4.2 says: 2-3 s, doubling, at most 4 times); then each answers the bridge's setup requests
   * after `answerDelayMs`. Resolves once every device got its 2.01 and answered
   * `expectedSetupRequests` distinct requests, or at `deadlineMs`.
   */
  | {
      readonly kind: 'storm';
      readonly startAtMs: number;
      readonly deadlineMs: number;
      readonly expectedSetupRequests: number;
      readonly answerDelayMs: number;
      /** Registers outstanding at most (each 2.01 lets the next device go); >= the device count: all at once. */
      readonly window: number;
    }
  | { readonly kind: 'close' };

/** Per device: -1 where the event did not happen. Times are wall-clock ms. */
export interface StormReply {
  readonly kind: 'stormed';
  readonly devices: number;
  /** First Register sent (the same for all devices of a burst, give or take the burst's own duration). */
  readonly firstRegisterAtMs: number;
  readonly lastRegisterSentAtMs: number;
  /** When each device received its 2.01 Created. */
  readonly createdAtMs: Float64Array;
  /** When each device answered its last expected setup request. */
  readonly setUpAtMs: Float64Array;
  /** Register retransmissions (no answer within the CoAP timeout). */
  readonly registerRetransmissions: number;
  /** Registers answered with something else than 2.01, by code. */
  readonly registerErrors: Record<string, number>;
  /** Devices without a 2.01 at the deadline. */
  readonly unregistered: number;
  /** Setup requests received, distinct (by Message ID), by kind. */
  readonly requests: Record<string, number>;
  /** Requests received again with a Message ID already seen: the bridge retransmitted (its ACK timeout passed). */
  readonly retransmittedRequests: number;
  /** Devices that received a request before their 2.01 Created (must be 0). */
  readonly requestBeforeCreated: number;
  /** Most requests one device held unanswered at once (NSTART = 1, RFC 7252 §4.7: must be 1). */
  readonly maxOutstandingPerDevice: number;
  /** Devices that held more than one request at once. */
  readonly devicesOverNstart: number;
  /**
   * Requests held unanswered across this process's devices, sampled every BUCKET_MS since the start
   * (index = ms since start / BUCKET_MS): summed across processes, a snapshot of the whole fleet.
   */
  readonly outstandingByBucket: Int32Array;
  /** The most requests this process's devices held unanswered at once (exact, this process only). */
  readonly maxOutstanding: number;
  /** Answers whose token did not echo the request's: never (we build them from the request). */
  readonly stray: number;
}

export type StormReplyAny =
  | { readonly kind: 'opened'; readonly count: number; readonly elapsedMs: number }
  | StormReply
  | { readonly kind: 'closed' }
  | { readonly kind: 'error'; readonly message: string };

export const BUCKET_MS = 10;
