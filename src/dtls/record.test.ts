import { ContentType, DTLS_1_2, encodeRecord, parseRecords } from './record';
import { ReplayWindow } from './replay-window';

describe('DTLS record framing (RFC 6347 §4.1, RFC 9146 §4)', () => {
  it('encodes the 13-byte header, golden bytes', () => {
    const r = encodeRecord(ContentType.HANDSHAKE, 1, 0x010203040506, Buffer.from([0xaa, 0xbb]));
    expect(r.toString('hex')).toBe('16fefd0001010203040506' + '0002' + 'aabb');
  });

  it('parses several records of one datagram, with and without a connection ID', () => {
    const cid = Buffer.from('c1d2c3', 'hex');
    const d = Buffer.concat([
      encodeRecord(ContentType.ALERT, 0, 7, Buffer.from([1, 0])),
      encodeRecord(ContentType.APPLICATION_DATA, 1, 9, Buffer.from('xyz'), cid),
    ]);
    const { records, error } = parseRecords(d, 3);
    expect(error).toBeUndefined();
    expect(
      records.map((r) => [r.type, r.epoch, r.sequence, r.cid?.toString('hex'), r.fragment.toString('hex')]),
    ).toEqual([
      [ContentType.ALERT, 0, 7, undefined, '0100'],
      [ContentType.TLS12_CID, 1, 9, 'c1d2c3', Buffer.from('xyz').toString('hex')],
    ]);
    expect(records[0]?.version).toBe(DTLS_1_2);
  });

  it('keeps the records before one that does not frame, and says why', () => {
    const good = encodeRecord(ContentType.ALERT, 0, 1, Buffer.from([1, 0]));
    const truncated = encodeRecord(ContentType.HANDSHAKE, 0, 2, Buffer.alloc(20)).subarray(0, 20);
    const { records, error } = parseRecords(Buffer.concat([good, truncated]), 0);
    expect(records).toHaveLength(1);
    expect(error?.message).toMatch(/record truncated: 7 of 20 bytes/);
    expect(parseRecords(Buffer.from('17fefc000000000000000000', 'hex'), 0).error?.message).toMatch(/header truncated/);
    expect(parseRecords(Buffer.from('16030300000000000000000000', 'hex'), 0).error?.message).toMatch(
      /version 0x303 is not DTLS/,
    );
    expect(
      parseRecords(encodeRecord(ContentType.APPLICATION_DATA, 1, 1, Buffer.alloc(1), Buffer.alloc(4)), 0).error
        ?.message,
    ).toMatch(/no connection ID was issued/);
    const oversized = Buffer.from('17fefd00010000000000014801', 'hex');
    expect(parseRecords(oversized, 0).error?.message).toMatch(/more than 18432/);
  });
});

describe('ReplayWindow (RFC 6347 §4.1.2.6)', () => {
  it('accepts each number once, inside the 64-wide window, in any order', () => {
    const w = new ReplayWindow();
    for (const s of [5, 3, 100, 99, 37]) {
      expect(w.mayAccept(s)).toBe(true);
      w.mark(s);
      expect(w.mayAccept(s)).toBe(false);
    }
    expect(w.mayAccept(36)).toBe(false); // 100 - 36 = 64: left the window
    expect(w.mayAccept(37)).toBe(false);
    expect(w.mayAccept(38)).toBe(true);
    w.mark(300);
    expect(w.mayAccept(100)).toBe(false);
    expect(w.mayAccept(299)).toBe(true);
  });

  it('continued from a floor: nothing at or below it is accepted', () => {
    const w = new ReplayWindow(1000);
    expect(w.mayAccept(1000)).toBe(false);
    expect(w.mayAccept(990)).toBe(false);
    expect(w.mayAccept(1001)).toBe(true);
  });
});
