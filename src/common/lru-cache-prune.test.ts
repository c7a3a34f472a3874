/** pruneExpired: idle devices' expired cache entries are released without waiting for a set(). */
import { ReadThroughCache, TtlLruCache } from './lru-cache';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TtlLruCache.pruneExpired', () => {
  it('drops expired entries only, among at most maxScan of the least recently used', () => {
    const t = clock();
    const c = new TtlLruCache<number>(100, 100, t.now);
    for (let i = 0; i < 10; i++) c.set(`old${i}`, i);
    t.advance(60);
    c.set('fresh', 1);
    t.advance(50); // the ten old entries have expired, 'fresh' has not
    expect(c.pruneExpired(4)).toBe(4);
    expect(c.size).toBe(7);
    expect(c.pruneExpired(100)).toBe(6);
    expect([c.size, c.get('fresh')]).toEqual([1, 1]);
  });

  it('keeps what get() would return, also behind a fresh entry moved to the back by a hit', () => {
    const t = clock();
    const c = new TtlLruCache<string>(100, 100, t.now);
    c.set('a', 'A');
    t.advance(60);
    c.set('b', 'B');
    expect(c.get('a')).toBe('A'); // 'a' is now the most recently used, and expires first
    t.advance(50);
    expect(c.pruneExpired(10)).toBe(1);
    expect([c.get('a'), c.get('b')]).toEqual([undefined, 'B']);
  });
});

describe('ReadThroughCache.pruneExpired', () => {
  it('releases expired copies and write marks, and an expired mark no longer blocks a fill', () => {
    const t = clock();
    const c = new ReadThroughCache<string>(10, 100, t.now, 200);
    const ticket = c.ticket();
    c.put('k', 'v1');
    t.advance(250);
    expect(c.pruneExpired(10)).toBe(2); // the copy and the write mark
    c.fill('k', 'v2', c.ticket());
    expect(c.get('k')).toBe('v2');
    c.fill('k', 'stale', ticket); // older than the guard: refused as before
    expect(c.get('k')).toBe('v2');
  });
});
