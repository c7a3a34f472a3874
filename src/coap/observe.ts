/**
 * Observe sequence ordering (RFC 7641 §3.4). A notification with sequence V2 received at T2 is
 * fresher than the last one (V1, T1) when
 *   (V1 < V2 and V2 - V1 < 2^23) or (V1 > V2 and V1 - V2 > 2^23) or (T2 > T1 + 128 s).
 * Observe values are 24-bit, so the comparison handles wrap-around at 2^24.
 */
const HALF = 1 << 23;
const MAX_STALE_MS = 128_000;

export function isFresher(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + MAX_STALE_MS;
}

/** Observe option value 0 registers, 1 deregisters (RFC 7641 §2). */
export const OBSERVE_REGISTER = 0;
export const OBSERVE_DEREGISTER = 1;
