import { BridgeError } from '../../common/errors';
import { parsePath } from '../path';
import { multi, resourceInstance, single, type LwM2mNode } from '../node';
import type { ResourceType } from '../value';
import type { CodecContext } from './types';
import { cborCodec } from './cbor';
import { codecError, testModel, T } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const p = (rid: number): string => `/${T.OBJECT}/0/${rid}`;
const dec = (bytes: string, path: string): LwM2mNode => cborCodec.decode(hex(bytes), parsePath(path), ctx);
const enc = (node: LwM2mNode, path: string): string => cborCodec.encode(node, parsePath(path), ctx).toString('hex');

// Golden items are the examples of RFC 8949 Appendix A; the LwM2M mapping is LwM2M-Core 1.2
// Appendix C Table C.2 (CBOR column).
describe('application/cbor: golden items (RFC 8949 Appendix A)', () => {
  const cases: Array<[string, number, ResourceType, ConstructorParameters<typeof Object>[0], string]> = [
    ['integer 0', T.INTEGER, 'INTEGER', 0, '00'],
    ['integer 24', T.INTEGER, 'INTEGER', 24, '1818'],
    ['integer 1000000', T.INTEGER, 'INTEGER', 1000000, '1a000f4240'],
    ['integer -1', T.INTEGER, 'INTEGER', -1, '20'],
    ['integer -1000', T.INTEGER, 'INTEGER', -1000, '3903e7'],
    ['integer 1000000000000 (beyond 32 bits)', T.INTEGER, 'INTEGER', 1000000000000, '1b000000e8d4a51000'],
    ['unsigned 18446744073709551615', T.UNSIGNED, 'UNSIGNED_INTEGER', 18446744073709551615n, '1bffffffffffffffff'],
    ['float 100000.0 (exact in binary32)', T.FLOAT, 'FLOAT', 100000, 'fa47c35000'],
    ['float 1.1 (binary64)', T.FLOAT, 'FLOAT', 1.1, 'fb3ff199999999999a'],
    ['true', T.BOOLEAN, 'BOOLEAN', true, 'f5'],
    ['false', T.BOOLEAN, 'BOOLEAN', false, 'f4'],
    ['text "IETF"', T.STRING, 'STRING', 'IETF', '6449455446'],
    ["bytes h'01020304'", T.OPAQUE, 'OPAQUE', Buffer.from([1, 2, 3, 4]), '4401020304'],
    ['tag 1 epoch time 1363896240', T.TIME, 'TIME', new Date(1363896240000), 'c11a514b67b0'],
  ];
  it.each(cases)('%s round-trips', (_label, rid, type, value, bytes) => {
    const node = single(rid, type, value as Parameters<typeof single>[2]);
    expect(enc(node, p(rid))).toBe(bytes);
    expect(dec(bytes, p(rid))).toEqual(node);
  });

  it('reads half-precision and double floats, and integers written as bignum tags', () => {
    expect(dec('f93e00', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 1.5)); // RFC 8949 App. A: 1.5
    expect(dec('fb7e37e43c8800759c', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 1.0e300));
    expect(dec('f90000', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 0));
    expect(dec('0a', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 10));
  });

  it('reads time as tag 0 date string, tag 1 or a bare integer', () => {
    const t = single(T.TIME, 'TIME', new Date(1363896240000));
    expect(dec('c074323031332d30332d32315432303a30343a30305a', p(T.TIME))).toEqual(t); // "2013-03-21T20:04:00Z"
    expect(dec('1a514b67b0', p(T.TIME))).toEqual(t);
    codecError(() => dec('c07818323031332d30332d32315432303a30343a3030205a5a', p(T.TIME)), p(T.TIME));
  });

  it('carries Objlnk and Corelnk as text', () => {
    expect(enc(single(T.OBJLNK, 'OBJLNK', { objectId: 3, instanceId: 0 }), p(T.OBJLNK))).toBe('63333a30');
    expect(dec('63333a30', p(T.OBJLNK))).toEqual(single(T.OBJLNK, 'OBJLNK', { objectId: 3, instanceId: 0 }));
    codecError(() => dec('63332d30', p(T.OBJLNK)), p(T.OBJLNK));
    expect(dec('663c2f332f303e', p(T.CORELNK))).toEqual(single(T.CORELNK, 'CORELNK', '</3/0>'));
  });
});

describe('application/cbor: typing and validation', () => {
  it('keeps large integers exact and range-checks them', () => {
    expect(dec('1b0020000000000001', p(T.INTEGER))).toEqual(single(T.INTEGER, 'INTEGER', 2n ** 53n + 1n));
    expect(dec('3b7fffffffffffffff', p(T.INTEGER))).toEqual(single(T.INTEGER, 'INTEGER', -(2n ** 63n)));
    expect(enc(single(T.INTEGER, 'INTEGER', -(2n ** 63n)), p(T.INTEGER))).toBe('3b7fffffffffffffff');
    codecError(() => dec('1b8000000000000000', p(T.INTEGER)), p(T.INTEGER));
    codecError(() => dec('20', p(T.UNSIGNED)), p(T.UNSIGNED));
    codecError(() => enc(single(T.INTEGER, 'INTEGER', 2n ** 63n), p(T.INTEGER)), p(T.INTEGER));
    // Shortest argument for each width, for number and bigint alike (RFC 8949 §4.2.1).
    expect(enc(single(T.INTEGER, 'INTEGER', 23n), p(T.INTEGER))).toBe('17');
    expect(enc(single(T.INTEGER, 'INTEGER', -25), p(T.INTEGER))).toBe('3818');
    expect(enc(single(T.INTEGER, 'INTEGER', 65536), p(T.INTEGER))).toBe('1a00010000');
    expect(enc(single(T.INTEGER, 'INTEGER', -4294967297), p(T.INTEGER))).toBe('3b0000000100000000');
    // Times beyond 2^32 seconds stay integers under tag 1.
    expect(enc(single(T.TIME, 'TIME', new Date(4294967296000)), p(T.TIME))).toBe('c11b0000000100000000');
  });

  it('decodes by the model type and rejects items of another CBOR type', () => {
    expect(dec('1864', '/3/0/9')).toEqual(single(9, 'INTEGER', 100));
    codecError(() => dec('f93e00', '/3/0/9'), '/3/0/9'); // 1.5 for an INTEGER
    codecError(() => dec('6449455446', '/3/0/9'), '/3/0/9');
    codecError(() => dec('01', p(T.BOOLEAN)), p(T.BOOLEAN));
    codecError(() => dec('4401020304', p(T.STRING)), p(T.STRING));
    codecError(() => dec('6449455446', p(T.OPAQUE)), p(T.OPAQUE));
    codecError(() => dec('f6', p(T.STRING)), p(T.STRING)); // null
    codecError(() => dec('a0', '/4242/0/1'), '/4242/0/1'); // a map is not a single value
    codecError(() => dec('80', '/4242/0/1'), '/4242/0/1');
    codecError(() => dec('00', '/3/0/4'), '/3/0/4'); // executable
  });

  it('guesses the type of an unknown resource from the CBOR item', () => {
    expect(dec('f5', '/4242/0/1')).toEqual(single(1, 'BOOLEAN', true));
    expect(dec('6449455446', '/4242/0/1')).toEqual(single(1, 'STRING', 'IETF'));
    expect(dec('4401020304', '/4242/0/1')).toEqual(single(1, 'OPAQUE', Buffer.from([1, 2, 3, 4])));
    expect(dec('20', '/4242/0/1')).toEqual(single(1, 'INTEGER', -1));
    expect(dec('1bffffffffffffffff', '/4242/0/1')).toEqual(single(1, 'UNSIGNED_INTEGER', 2n ** 64n - 1n));
    expect(dec('fb3ff199999999999a', '/4242/0/1')).toEqual(single(1, 'FLOAT', 1.1));
    expect(dec('c11a514b67b0', '/4242/0/1')).toEqual(single(1, 'TIME', new Date(1363896240000)));
  });

  it('rejects malformed CBOR with a CodecError, never another error', () => {
    for (const bad of ['', '1a00', '1a000f42', '64494554', '0000', 'ff', '5f', '1c']) {
      codecError(() => dec(bad, p(T.INTEGER)), p(T.INTEGER));
    }
    const golden = hex('fb3ff199999999999a');
    for (let i = 0; i < 256; i++) {
      const b = Buffer.from(golden);
      b[0] = i;
      try {
        cborCodec.decode(b, parsePath(p(T.FLOAT)), ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(BridgeError);
      }
    }
  });

  it('carries resource instances; refuses multiple resources and containers', () => {
    expect(dec('1864', '/3/0/6/2')).toEqual(resourceInstance(2, 'INTEGER', 100));
    expect(enc(resourceInstance(2, 'INTEGER', 100), '/3/0/6/2')).toBe('1864');
    codecError(() => enc(multi(6, 'INTEGER', [[0, 1]]), '/3/0/6'), '/3/0/6');
    codecError(() => dec('00', '/3/0'), '/3/0');
    expect(cborCodec.supports(parsePath('/3/0'))).toBe(false);
    expect(cborCodec.supports(parsePath('/3/0/9'), single(9, 'INTEGER', 1))).toBe(true);
    expect(cborCodec.format).toBe(60);
  });

  it('writes floats in the shortest exact form, as SenML CBOR and LwM2M CBOR do (RFC 8949 §4.2.2)', () => {
    // One CBOR number writer for the three CBOR formats: half precision when exact (this codec used to write binary32).
    expect(enc(single(T.FLOAT, 'FLOAT', 1.5), p(T.FLOAT))).toBe('f93e00');
    expect(enc(single(T.FLOAT, 'FLOAT', -4.1), p(T.FLOAT))).toBe('fbc010666666666666');
    expect(dec('f93e00', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 1.5));
  });

  it('encodes by the model type when the value fits', () => {
    expect(enc(single(T.FLOAT, 'INTEGER', 3), p(T.FLOAT))).toBe('f94200');
    expect(enc(single(13, 'INTEGER', 1363896240), '/3/0/13')).toBe('c11a514b67b0');
    codecError(() => enc(single(9, 'STRING', 'x'), '/3/0/9'), '/3/0/9');
  });
});
