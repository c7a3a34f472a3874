/**
 * Token buckets by key on a fake clock: burst, refill, the wait a 5.03 Max-Age is made from, the
 * off switch, and the bound on the table (DESIGN invariant 5: a spoofed-source flood cannot grow it).
 */
import { TokenBuckets } from './token-buckets';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('TokenBuckets', () => {
  it('lets a new key take its burst at once, then refuses until tokens come back at the rate', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 10, burst: 3 }, 100, c.now);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    c.advance(99);
    expect(b.take('a')).toBe(false); // 0.99 of a token
    c.advance(1);
    expect(b.take('a')).toBe(true); // one token after 100 ms at 10/s
    expect(b.take('a')).toBe(false);
  });

  it('keeps each key apart', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 1, burst: 1 }, 100, c.now);
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
    expect(b.take('b')).toBe(true);
  });

  it('never refills beyond the burst, however long a key was idle', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 100, burst: 2 }, 100, c.now);
    b.take('a');
    c.advance(3_600_000);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, false]);
  });

  it('says how long until the next token (ceil, ms), 0 when one is there or the key is unknown', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 0.5, burst: 1 }, 100, c.now);
    expect(b.waitMs('a')).toBe(0);
    b.take('a');
    expect(b.waitMs('a')).toBe(2000);
    c.advance(1500);
    expect(b.waitMs('a')).toBe(500);
    c.advance(500);
    expect(b.waitMs('a')).toBe(0);
  });

  it('a clock stepping back refills nothing', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 1, burst: 1 }, 100, c.now);
    b.take('a');
    c.advance(-10_000);
    expect(b.take('a')).toBe(false);
  });

  it('with a rate of 0 is off: every take succeeds and nothing is held', () => {
    const b = new TokenBuckets({ perSecond: 0, burst: 1 }, 100);
    expect(b.enabled).toBe(false);
    for (let i = 0; i < 1000; i++) expect(b.take('a')).toBe(true);
    expect(b.size).toBe(0);
  });

  it('holds at most maxKeys buckets whatever the number of keys seen', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 1, burst: 1 }, 1000, c.now);
    for (let i = 0; i < 100_000; i++) b.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(b.size).toBe(1000);
  });

  it('forgets the least recently used key first: an active flooder keeps its empty bucket through a flood of new keys', () => {
    const c = clock();
    const b = new TokenBuckets({ perSecond: 1, burst: 2 }, 100, c.now);
    b.take('flooder');
    b.take('flooder');
    expect(b.take('flooder')).toBe(false);
    for (let round = 0; round < 10; round++) {
      c.advance(1000); // one token back, taken at once: the flooder stays at the recent end
      expect(b.take('flooder')).toBe(true);
      expect(b.take('flooder')).toBe(false);
      for (let i = 0; i < 50; i++) b.take(`spoofed-${round}-${i}`);
    }
    expect(b.size).toBe(100);
    expect(b.take('flooder')).toBe(false); // still known, still empty: no fresh burst from eviction
  });
});
