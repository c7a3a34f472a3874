/**
 * Notification reordering (RFC 7641 §3.4): V2 at T2 is fresher than V1 at T1 when
 *   (V1 < V2 and V2 - V1 < 2^23) or (V1 > V2 and V1 - V2 > 2^23) or (T2 > T1 + 128 s).
 */
import { OBSERVE_DEREGISTER, OBSERVE_REGISTER, isFresher } from './observe';

const T = 1_000_000;
const HALF = 2 ** 23;
const MAX = 2 ** 24 - 1;

describe('isFresher (RFC 7641 §3.4)', () => {
  it('a larger sequence number within 2^23 is fresher', () => {
    expect(isFresher(5, T, 6, T)).toBe(true);
    expect(isFresher(0, T, HALF - 1, T)).toBe(true);
  });

  it('a smaller sequence number within 2^23 is older', () => {
    expect(isFresher(6, T, 5, T)).toBe(false);
    expect(isFresher(HALF - 1, T, 0, T)).toBe(false);
  });

  it('an equal sequence number is not fresher (a duplicate or replay)', () => {
    expect(isFresher(42, T, 42, T)).toBe(false);
    expect(isFresher(0, T, 0, T)).toBe(false);
  });

  it('wraps at 2^24: 2^24-1 → 0 and 2^24-10 → 5 are fresher', () => {
    expect(isFresher(MAX, T, 0, T)).toBe(true);
    expect(isFresher(MAX - 9, T, 5, T)).toBe(true);
    // ...and the reverse direction is older.
    expect(isFresher(0, T, MAX, T)).toBe(false);
    expect(isFresher(5, T, MAX - 9, T)).toBe(false);
  });

  it('a distance of exactly 2^23 is neither fresher nor, in reverse, wrapped (strict inequalities)', () => {
    expect(isFresher(0, T, HALF, T)).toBe(false); // V2 - V1 < 2^23 fails
    expect(isFresher(HALF, T, 0, T)).toBe(false); // V1 - V2 > 2^23 fails
    expect(isFresher(1, T, HALF, T)).toBe(true); // distance 2^23 - 1
    expect(isFresher(HALF + 1, T, 0, T)).toBe(true); // distance 2^23 + 1: wrapped
    expect(isFresher(HALF, T, HALF + HALF - 1, T)).toBe(true);
  });

  it('after more than 128 s any value is fresher, even an older number (the 128 s rule)', () => {
    expect(isFresher(100, T, 3, T + 128_001)).toBe(true);
    expect(isFresher(100, T, 100, T + 128_001)).toBe(true);
    expect(isFresher(0, T, HALF, T + 200_000)).toBe(true);
  });

  it('exactly 128 s later does not count (T2 > T1 + 128 s is strict)', () => {
    expect(isFresher(100, T, 3, T + 128_000)).toBe(false);
    expect(isFresher(100, T, 101, T + 128_000)).toBe(true);
  });

  it('register is 0 and deregister is 1 (RFC 7641 §2)', () => {
    expect(OBSERVE_REGISTER).toBe(0);
    expect(OBSERVE_DEREGISTER).toBe(1);
  });
});
