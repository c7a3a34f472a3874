/**
 * Deduplication (RFC 7252 §4.5): a (peer, Message ID) seen within EXCHANGE_LIFETIME (§4.8.2) is a
 * duplicate; memory is bounded by a per-peer ring, a lifetime, a sweep and a peer cap.
 */
import { Deduplicator, type DedupEntry } from './dedup';

const LIFETIME = 247_000; // EXCHANGE_LIFETIME with the default parameters (§4.8.2)
const RING = 8;

function fresh(d: Deduplicator, peer: string, mid: number, now: number): DedupEntry {
  const r = d.checkAndRecord(peer, mid, now);
  if (!('fresh' in r)) throw new Error(`${peer}#${mid} unexpectedly seen before`);
  return r.fresh;
}

const isDuplicate = (d: Deduplicator, peer: string, mid: number, now: number): boolean =>
  !('fresh' in d.checkAndRecord(peer, mid, now));

describe('Deduplicator (RFC 7252 §4.5)', () => {
  it('returns the recorded entry, with its cached reply, for a duplicate', () => {
    const d = new Deduplicator(LIFETIME, 10);
    const entry = fresh(d, 'a', 100, 0);
    entry.reply = Buffer.from('60001234', 'hex');
    const again = d.checkAndRecord('a', 100, 10);
    expect('fresh' in again).toBe(false);
    expect(again).toBe(entry);
    expect((again as DedupEntry).reply).toEqual(Buffer.from('60001234', 'hex'));
  });

  it('keeps Message ID spaces separate per peer', () => {
    const d = new Deduplicator(LIFETIME, 10);
    fresh(d, '10.0.0.1:5683', 7, 0);
    expect(isDuplicate(d, '10.0.0.2:5683', 7, 0)).toBe(false);
    expect(isDuplicate(d, '10.0.0.1:5684', 7, 0)).toBe(false);
    expect(isDuplicate(d, '10.0.0.1:5683', 7, 0)).toBe(true);
  });

  it('Message IDs 0 and 65535 are ordinary values', () => {
    const d = new Deduplicator(LIFETIME, 10);
    fresh(d, 'a', 0, 0);
    fresh(d, 'a', 0xffff, 0);
    expect(isDuplicate(d, 'a', 0, 1)).toBe(true);
    expect(isDuplicate(d, 'a', 0xffff, 1)).toBe(true);
  });

  it(`remembers the last ${RING} Message IDs of a peer: a bounded ring`, () => {
    const d = new Deduplicator(LIFETIME, 10);
    for (let mid = 1; mid <= RING; mid++) fresh(d, 'a', mid, mid);
    for (let mid = 1; mid <= RING; mid++) expect(isDuplicate(d, 'a', mid, 100)).toBe(true);
    fresh(d, 'a', 1000, 200); // overwrites the oldest slot (MID 1)
    expect(isDuplicate(d, 'a', 2, 201)).toBe(true);
    expect(isDuplicate(d, 'a', 1, 202)).toBe(false); // forgotten: recorded afresh (replaces MID 2)
    expect(isDuplicate(d, 'a', 1000, 203)).toBe(true);
  });

  it('memory stays bounded for a peer sending many messages', () => {
    const d = new Deduplicator(LIFETIME, 10);
    for (let mid = 0; mid < 100_000; mid++) d.checkAndRecord('a', mid & 0xffff, mid);
    expect(d.size).toBe(1);
  });

  it('forgets a Message ID after EXCHANGE_LIFETIME (entries exactly at the limit still count)', () => {
    const d = new Deduplicator(LIFETIME, 10);
    fresh(d, 'a', 5, 1000);
    expect(isDuplicate(d, 'a', 5, 1000 + LIFETIME)).toBe(true);
    expect(isDuplicate(d, 'a', 5, 1001 + LIFETIME)).toBe(false);
    // The new record starts a new lifetime.
    expect(isDuplicate(d, 'a', 5, 1002 + LIFETIME)).toBe(true);
  });

  it('a reused Message ID after expiry gets a new entry without the old reply', () => {
    const d = new Deduplicator(LIFETIME, 10);
    fresh(d, 'a', 5, 0).reply = Buffer.from('old');
    const again = fresh(d, 'a', 5, LIFETIME + 1);
    expect(again.reply).toBeUndefined();
  });

  it('sweep drops peers idle for longer than EXCHANGE_LIFETIME and keeps the others', () => {
    const d = new Deduplicator(LIFETIME, 10);
    fresh(d, 'idle', 1, 0);
    fresh(d, 'busy', 1, 0);
    fresh(d, 'busy', 2, LIFETIME);
    d.sweep(LIFETIME + 1);
    expect(d.size).toBe(1);
    expect(isDuplicate(d, 'busy', 2, LIFETIME + 2)).toBe(true);
    expect(isDuplicate(d, 'idle', 1, LIFETIME + 2)).toBe(false);
    d.sweep(10 * LIFETIME);
    expect(d.size).toBe(0);
  });

  it('caps the number of peers: a new peer evicts the oldest one', () => {
    const d = new Deduplicator(LIFETIME, 3);
    fresh(d, 'p1', 1, 1);
    fresh(d, 'p2', 1, 2);
    fresh(d, 'p3', 1, 3);
    fresh(d, 'p4', 1, 4);
    expect(d.size).toBe(3);
    expect(isDuplicate(d, 'p4', 1, 5)).toBe(true);
    expect(isDuplicate(d, 'p3', 1, 5)).toBe(true);
    expect(isDuplicate(d, 'p2', 1, 5)).toBe(true);
    expect(d.size).toBe(3);
  });

  it('evicts the least recently active peer (to a second), not the first one created (consistent with sweep)', () => {
    const d = new Deduplicator(LIFETIME, 3);
    fresh(d, 'active', 1, 1000);
    fresh(d, 'p2', 1, 2000);
    fresh(d, 'p3', 1, 3000);
    fresh(d, 'active', 2, 4000); // the first peer keeps talking
    fresh(d, 'p4', 1, 5000); // cap reached: p2 has been idle longest
    expect(isDuplicate(d, 'active', 2, 6000)).toBe(true);
    expect(isDuplicate(d, 'active', 1, 6000)).toBe(true);
    expect(d.size).toBe(3);
    expect(isDuplicate(d, 'p2', 1, 7000)).toBe(false);
  });

  it('counts activity within a second of the last reordering as no newer (recency resolution 1 s)', () => {
    const d = new Deduplicator(LIFETIME, 2);
    fresh(d, 'a', 1, 1000);
    fresh(d, 'b', 1, 1500);
    fresh(d, 'a', 2, 1999); // within a second of a's last move: a stays the least recent
    fresh(d, 'c', 1, 2100); // evicts a
    expect(isDuplicate(d, 'b', 1, 2200)).toBe(true);
    expect(isDuplicate(d, 'a', 1, 2200)).toBe(false);
  });
});
