/**
 * CBOR writer: preferred serialization of integers and the shortest exact float
 * (RFC 8949 §4.2.1, §4.2.2; RFC 8949 Appendix A examples), cross-checked by decoding with cbor-x.
 */
import { Decoder } from 'cbor-x';
import { CodecError } from '../../common/errors';
import { CborWriter, toHalf } from './cbor-writer';

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const floatHex = (v: number): string => new CborWriter(1).float(v).finish().toString('hex');
const intHex = (v: number | bigint): string => new CborWriter(1).int(v).finish().toString('hex');

describe('CborWriter', () => {
  // RFC 8949 Appendix A.
  it.each([
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [-1, '20'],
    [-1000, '3903e7'],
    [18446744073709551615n, '1bffffffffffffffff'],
    [-18446744073709551616n, '3bffffffffffffffff'],
    [9007199254740993n, '1b0020000000000001'],
  ])('writes the integer %p as %s', (v, expected) => {
    expect(intHex(v)).toBe(expected);
  });

  it.each([
    [0.0, 'f90000'],
    [-0.0, 'f98000'],
    [1.0, 'f93c00'],
    [1.5, 'f93e00'],
    [65504.0, 'f97bff'],
    [100000.0, 'fa47c35000'],
    [3.4028234663852886e38, 'fa7f7fffff'],
    [1.0e300, 'fb7e37e43c8800759c'],
    [5.960464477539063e-8, 'f90001'],
    [0.00006103515625, 'f90400'],
    [-4.0, 'f9c400'],
    [-4.1, 'fbc010666666666666'],
    [Infinity, 'f97c00'],
    [-Infinity, 'f9fc00'],
    [NaN, 'f97e00'],
    [1.1, 'fb3ff199999999999a'],
    [22.5, 'f94da0'],
  ])('writes the float %p in its shortest exact form %s', (v, expected) => {
    const bytes = floatHex(v);
    expect(bytes).toBe(expected);
    const back: unknown = decoder.decode(Buffer.from(bytes, 'hex'));
    expect(Object.is(back, v)).toBe(true);
  });

  it('finds exact half-precision values only', () => {
    expect(toHalf(0.333251953125)).toBe(0x3555);
    expect(toHalf(0.1)).toBe(-1);
    expect(toHalf(65520)).toBe(-1);
    expect(toHalf(2 ** -25)).toBe(-1);
  });

  it('writes strings, bytes, maps and arrays with definite lengths, growing its buffer', () => {
    const long = 'é'.repeat(200);
    const out = new CborWriter(2)
      .map(2)
      .int(0)
      .text(long)
      .int(1)
      .array(2)
      .bytes(Buffer.from([1, 2]))
      .bool(true)
      .finish();
    const back = decoder.decode(out) as Map<number, unknown>;
    expect(back.get(0)).toBe(long);
    expect(back.get(1)).toEqual([Buffer.from([1, 2]), true]);
    expect(out.subarray(0, 5).toString('hex')).toBe('a200790190');
  });

  it('rejects integers it cannot write exactly', () => {
    expect(() => intHex(1.5)).toThrow(CodecError);
    expect(() => intHex(2 ** 64 * 2)).toThrow(CodecError);
    expect(() => intHex(2n ** 64n)).toThrow(CodecError);
  });
});
