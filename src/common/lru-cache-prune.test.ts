/** pruneExpired: idle devices' expired cache entries are released without waiting for a set(). */
import type { Registration } from '../server/registration/registration';
import type { Observation } from '../server/observation/observation-store';
import { ReadThroughCache, TtlLruCache } from './lru-cache';
import { StoreCache } from '../store/session-context';

const REG: Registration = {
  id: 'r1', endpoint: 'ep', address: '127.0.0.1', port: 5683, lifetime: 60, lwm2mVersion: '1.1', binding: 'U', queueMode: false,
  rootPath: '/', objects: [], objectLinks: '', registeredAt: 0, lastUpdate: 0, expiresAt: 60_000,
};
const OBS: Observation = { token: 'tok', registrationId: 'r1', endpoint: 'ep', kind: 'single', paths: ['/3303/0/5700'], createdAt: 0 };

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

describe('ReadThroughCache and StoreCache pruneExpired', () => {
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

  it('prunes every cache of a StoreCache', () => {
    const t = clock();
    const s = new StoreCache(10, 100, t.now);
    s.registrationByEndpoint.put('ep', REG);
    s.observationByToken.put('tok', OBS);
    t.advance(31_000);
    expect(s.pruneExpired(10)).toBe(4); // two copies and their two write marks (30 s guard)
    expect(s.registrationByEndpoint.get('ep')).toBeUndefined();
  });
});
