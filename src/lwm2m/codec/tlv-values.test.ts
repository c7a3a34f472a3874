import { parsePath } from '../path';
import { single, type LwM2mNode } from '../node';
import type { CodecContext } from './types';
import { tlvCodec } from './tlv';
import { codecError, testModel, T } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const dec = (payload: Buffer, path: string): LwM2mNode => tlvCodec.decode(payload, parsePath(path), ctx);
const enc = (node: LwM2mNode, path: string): Buffer => tlvCodec.encode(node, parsePath(path), ctx);

describe('TLV: typed values (LwM2M-Core 1.1 Appendix C)', () => {
  const path = (rid: number): string => `/${T.OBJECT}/0/${rid}`;
  const roundTrip = (
    rid: number,
    type: Parameters<typeof single>[1],
    value: Parameters<typeof single>[2],
    bytes: string,
  ): void => {
    const node = single(rid, type, value);
    expect(enc(node, path(rid))).toEqual(hex(bytes));
    expect(dec(hex(bytes), path(rid))).toEqual(node);
  };

  it('writes integers as the shortest of 1, 2, 4, 8 bytes two’s complement', () => {
    roundTrip(T.INTEGER, 'INTEGER', 0, 'C1 01 00');
    roundTrip(T.INTEGER, 'INTEGER', -1, 'C1 01 FF');
    roundTrip(T.INTEGER, 'INTEGER', 127, 'C1 01 7F');
    roundTrip(T.INTEGER, 'INTEGER', 128, 'C2 01 00 80');
    roundTrip(T.INTEGER, 'INTEGER', -129, 'C2 01 FF 7F');
    roundTrip(T.INTEGER, 'INTEGER', 32768, 'C4 01 00 00 80 00');
    roundTrip(T.INTEGER, 'INTEGER', -2147483648, 'C4 01 80 00 00 00');
    roundTrip(T.INTEGER, 'INTEGER', 2147483648, 'C8 01 08 00 00 00 00 80 00 00 00');
    roundTrip(T.INTEGER, 'INTEGER', -(2n ** 63n), 'C8 01 08 80 00 00 00 00 00 00 00');
    roundTrip(T.INTEGER, 'INTEGER', 2n ** 63n - 1n, 'C8 01 08 7F FF FF FF FF FF FF FF');
  });

  it('keeps 8-byte integers beyond 2^53 exact as bigint, and safe ones as number', () => {
    const v = dec(hex('C8 01 08 00 20 00 00 00 00 00 01'), path(T.INTEGER));
    expect(v).toEqual(single(T.INTEGER, 'INTEGER', 2n ** 53n + 1n));
    expect(dec(hex('C8 01 08 00 00 00 00 00 00 00 2A'), path(T.INTEGER))).toEqual(single(T.INTEGER, 'INTEGER', 42));
    expect(enc(single(T.INTEGER, 'INTEGER', 42n), path(T.INTEGER))).toEqual(hex('C1 01 2A'));
  });

  it('reads unsigned integers as unsigned (LwM2M 1.1)', () => {
    roundTrip(T.UNSIGNED, 'UNSIGNED_INTEGER', 255, 'C1 02 FF');
    roundTrip(T.UNSIGNED, 'UNSIGNED_INTEGER', 65535, 'C2 02 FF FF');
    roundTrip(T.UNSIGNED, 'UNSIGNED_INTEGER', 2n ** 64n - 1n, 'C8 02 08 FF FF FF FF FF FF FF FF');
    codecError(() => enc(single(T.UNSIGNED, 'UNSIGNED_INTEGER', -1), path(T.UNSIGNED)), path(T.UNSIGNED));
  });

  it('writes a float as 4 bytes only when exact, else 8; reads both', () => {
    roundTrip(T.FLOAT, 'FLOAT', 1.5, 'C4 03 3F C0 00 00');
    roundTrip(T.FLOAT, 'FLOAT', -0.1, 'C8 03 08 BF B9 99 99 99 99 99 9A');
    expect(dec(hex('C8 03 08 3F F8 00 00 00 00 00 00'), path(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 1.5));
    codecError(() => dec(hex('C2 03 3F C0'), path(T.FLOAT)), path(T.FLOAT));
  });

  it('handles booleans, times, Objlnk, strings with 16-bit ids, opaque and unknown resources', () => {
    roundTrip(T.BOOLEAN, 'BOOLEAN', false, 'C1 04 00');
    codecError(() => dec(hex('C1 04 02'), path(T.BOOLEAN)));
    codecError(() => dec(hex('C2 04 00 01'), path(T.BOOLEAN)));
    roundTrip(T.TIME, 'TIME', new Date(-86400 * 1000), 'C4 06 FF FE AE 80');
    // Milliseconds are dropped: the wire carries whole seconds.
    expect(enc(single(T.TIME, 'TIME', new Date(1367491215999)), path(T.TIME))).toEqual(hex('C4 06 51 82 42 8F'));
    roundTrip(T.OBJLNK, 'OBJLNK', { objectId: 3, instanceId: 1 }, 'C4 07 00 03 00 01');
    codecError(() => dec(hex('C3 07 00 03 00'), path(T.OBJLNK)));
    roundTrip(T.WIDE_ID_STRING, 'STRING', 'héllo', 'E6 01 2C 68 C3 A9 6C 6C 6F');
    roundTrip(T.CORELNK, 'CORELNK', '</3/0>', 'C6 08 3C 2F 33 2F 30 3E');
    roundTrip(T.OPAQUE, 'OPAQUE', Buffer.from([1, 2, 3]), 'C3 05 01 02 03');
    expect(dec(hex('C2 63 AB CD'), `/${T.OBJECT}/0/99`)).toEqual(single(99, 'OPAQUE', Buffer.from([0xab, 0xcd])));
    codecError(() => dec(hex('C1 00 FF'), '/3/0/0'), '/3/0/0'); // invalid UTF-8
    codecError(() => dec(hex('C0 09'), `/${T.OBJECT}/0/9`)); // executable resource
  });

  it('uses 8-, 16- and 24-bit length fields as needed', () => {
    const sizes: Array<[number, string]> = [
      [7, 'C7 05'],
      [8, 'C8 05 08'],
      [255, 'C8 05 FF'],
      [256, 'D0 05 01 00'],
      [65535, 'D0 05 FF FF'],
      [65536, 'D8 05 01 00 00'],
    ];
    for (const [n, header] of sizes) {
      const value = Buffer.alloc(n, 0xaa);
      const bytes = enc(single(T.OPAQUE, 'OPAQUE', value), path(T.OPAQUE));
      expect(bytes.subarray(0, hex(header).length)).toEqual(hex(header));
      expect(bytes.length).toBe(hex(header).length + n);
      const back = dec(bytes, path(T.OPAQUE));
      expect(back.kind === 'resource' && Buffer.isBuffer(back.value) && back.value.equals(value)).toBe(true);
    }
  });

  it('copies opaque values out of the payload', () => {
    const payload = hex('C3 05 01 02 03');
    const node = dec(payload, path(T.OPAQUE));
    payload.fill(0);
    expect(node).toEqual(single(T.OPAQUE, 'OPAQUE', Buffer.from([1, 2, 3])));
  });

  it('decodes with the object version the device announced', () => {
    const vctx: CodecContext = { model: testModel, versions: new Map([[9001, '2.0']]) };
    expect(tlvCodec.decode(hex('C1 00 07'), parsePath('/9001/0/0'), vctx)).toEqual(single(0, 'INTEGER', 7));
    expect(dec(hex('C1 00 37'), '/9001/0/0')).toEqual(single(0, 'INTEGER', 0x37)); // newest version (2.0) by default
    const v1: CodecContext = { model: testModel, versions: new Map([[9001, '1.0']]) };
    expect(tlvCodec.decode(hex('C1 00 37'), parsePath('/9001/0/0'), v1)).toEqual(single(0, 'STRING', '7'));
  });
});
