import { ReadThroughCache, RECENCY_RESOLUTION_MS, TtlLruCache } from './lru-cache';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TtlLruCache', () => {
  it('evicts the least recently used entry beyond its bound', () => {
    const t = clock();
    const c = new TtlLruCache<number>(2, 10_000, t.now);
    c.set('a', 1);
    c.set('b', 2);
    t.advance(RECENCY_RESOLUTION_MS);
    expect(c.get('a')).toBe(1);
    c.set('c', 3);
    expect([c.get('a'), c.get('b'), c.get('c'), c.size]).toEqual([1, undefined, 3, 2]);
  });

  it('counts a hit as use only once per recency resolution', () => {
    const t = clock();
    const c = new TtlLruCache<number>(2, 10_000, t.now);
    c.set('a', 1);
    c.set('b', 2);
    t.advance(RECENCY_RESOLUTION_MS - 1);
    expect(c.get('a')).toBe(1); // within the resolution of its insertion: not moved
    c.set('c', 3);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([undefined, 2, 3]);
  });

  it('expires entries ttl after they were written', () => {
    const t = clock();
    const c = new TtlLruCache<string>(10, 100, t.now);
    c.set('k', 'v');
    t.advance(99);
    expect(c.get('k')).toBe('v');
    t.advance(1);
    expect(c.get('k')).toBeUndefined();
  });

  it('takes up to the jitter fraction off the TTL, at random per entry', () => {
    const t = clock();
    const draws = [0, 0.999, 0.5];
    const c = new TtlLruCache<string>(10, 1000, t.now, 0.2, () => draws.shift() ?? 0);
    c.set('full', 'a');
    c.set('shortest', 'b');
    c.set('middle', 'c');
    t.advance(801); // 0.999 of 20 % off: 801 ms
    expect([c.get('full'), c.get('shortest'), c.get('middle')]).toEqual(['a', undefined, 'c']);
    t.advance(99); // 0.5 of 20 % off: 900 ms
    expect([c.get('full'), c.get('middle')]).toEqual(['a', undefined]);
    t.advance(99);
    expect(c.get('full')).toBe('a');
    t.advance(1);
    expect(c.get('full')).toBeUndefined();
  });

  it('caches nothing when disabled', () => {
    const c = new TtlLruCache<number>(0, 1000);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
  });
});

describe('ReadThroughCache', () => {
  it('does not let a read that overlapped a write of this instance fill the cache', () => {
    const c = new ReadThroughCache<string>(10, 1000);
    const before = c.ticket();
    c.invalidate('k'); // a write ended while the read was in flight
    c.fill('k', 'old', before);
    expect(c.get('k')).toBeUndefined();
    c.fill('k', 'new', c.ticket());
    expect(c.get('k')).toBe('new');
  });

  it('lets reads fill keys that no write touched', () => {
    const c = new ReadThroughCache<string>(10, 1000);
    const t = c.ticket();
    c.invalidate('other');
    c.fill('k', 'v', t);
    expect(c.get('k')).toBe('v');
  });

  it('caches the state a write put unless another write to the key ended meanwhile', () => {
    let now = 0;
    const c = new ReadThroughCache<string>(10, 60_000, () => now, 30_000);
    const mine = c.ticket();
    c.invalidate('other');
    c.putWritten('k', 'written', mine);
    expect(c.get('k')).toBe('written');

    const slow = c.ticket(); // a write whose reply comes late...
    c.invalidate('k'); // ...while another (this instance's, or another's invalidation message) ended
    c.putWritten('k', 'stale', slow);
    expect(c.get('k')).toBeUndefined();
    // and a read that started before the late write ended may not fill it either
    const read = c.ticket();
    c.putWritten('k', 'later', c.ticket());
    c.fill('k', 'old read', read);
    expect(c.get('k')).toBe('later');

    const old = c.ticket();
    now += 30_000; // past the guard: the marks that would tell may be gone
    c.putWritten('j', 'too late', old);
    expect(c.get('j')).toBeUndefined();
  });
});

describe('TtlLruCache pruning', () => {
  it('drops expired entries as new ones arrive, without waiting for the bound', () => {
    const t = clock();
    const c = new TtlLruCache<number>(100, 10, t.now);
    for (let i = 0; i < 8; i++) c.set(`old${i}`, i);
    t.advance(10);
    c.set('new1', 1);
    c.set('new2', 2);
    expect(c.size).toBe(2);
    expect(c.get('new1')).toBe(1);
  });
});
