/**
 * The LwM2M value rules (LwM2M-Core 1.2 Appendix C) that every codec shares, and the points where
 * the codecs used to disagree: -0, Time fractions, Time given as seconds, unknown integers beyond int64.
 */
import { parsePath } from '../path';
import { instance, single } from '../node';
import { createDefaultCodecs } from './default-codecs';
import { ContentFormat, type CodecContext } from './types';
import {
  checkInteger,
  coerceValue,
  formatObjlnk,
  integerType,
  parseObjlnk,
  secondsToDate,
  typedValue,
} from './value-rules';
import { codecError, testModel } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const codecs = createDefaultCodecs();
const decode = (format: number, payload: string | Buffer, path: string) =>
  codecs.decodeNode(format, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, parsePath(path), ctx);
const encode = (format: number, node: Parameters<typeof codecs.encodeNode>[1], path: string): string =>
  codecs.encodeNode(format, node, parsePath(path), ctx).toString('utf8');

describe('value rules: Integer and Unsigned Integer (64-bit)', () => {
  it('normalises -0 to the Integer 0 for both types', () => {
    expect(Object.is(checkInteger(-0, 'INTEGER', '/x'), 0)).toBe(true);
    expect(Object.is(checkInteger(-0, 'UNSIGNED_INTEGER', '/x'), 0)).toBe(true);
  });

  it('keeps safe integers as numbers and the rest of the range as bigints', () => {
    expect(checkInteger(2n ** 53n - 1n, 'INTEGER', '/x')).toBe(2 ** 53 - 1);
    expect(checkInteger(-(2n ** 63n), 'INTEGER', '/x')).toBe(-(2n ** 63n));
    expect(checkInteger(2n ** 64n - 1n, 'UNSIGNED_INTEGER', '/x')).toBe(2n ** 64n - 1n);
    expect(checkInteger(2 ** 60, 'INTEGER', '/x')).toBe(2n ** 60n);
  });

  it('rejects fractions and values out of range, naming the path', () => {
    codecError(() => checkInteger(1.5, 'INTEGER', '/3/0/9'), '/3/0/9');
    codecError(() => checkInteger(2n ** 63n, 'INTEGER', '/3/0/9'), '/3/0/9');
    codecError(() => checkInteger(-1, 'UNSIGNED_INTEGER', '/3/0/9'), '/3/0/9');
    codecError(() => checkInteger(2n ** 64n, 'UNSIGNED_INTEGER', '/3/0/9'), '/3/0/9');
  });

  it('types an unknown integer as Unsigned only beyond the signed range', () => {
    expect(integerType(-1)).toBe('INTEGER');
    expect(integerType(2n ** 63n - 1n)).toBe('INTEGER');
    expect(integerType(2n ** 63n)).toBe('UNSIGNED_INTEGER');
    expect(integerType(1e19)).toBe('UNSIGNED_INTEGER');
  });
});

describe('value rules: Time and Objlnk', () => {
  it('takes Time as whole seconds since the epoch', () => {
    expect(secondsToDate(1700000000, '/x')).toEqual(new Date(1700000000000));
    expect(secondsToDate(-1n, '/x')).toEqual(new Date(-1000));
    codecError(() => secondsToDate(1.5, '/3/0/13'), '/3/0/13');
    codecError(() => secondsToDate(1e13, '/3/0/13'), '/3/0/13');
  });

  it('parses and formats "ObjectID:InstanceID" with 16-bit ids', () => {
    expect(parseObjlnk('3:0', '/x')).toEqual({ objectId: 3, instanceId: 0 });
    expect(parseObjlnk('65535:65535', '/x')).toEqual({ objectId: 65535, instanceId: 65535 });
    expect(formatObjlnk({ objectId: 66, instanceId: 1 })).toBe('66:1');
    for (const bad of ['66', '66:65536', ' 3:0', '3:0:1', '-1:0', ''])
      codecError(() => parseObjlnk(bad, '/65/0/0/0'), '/65/0/0/0');
  });

  it('checks values by kind: undefined for another kind, an error for a value that breaks the type', () => {
    expect(typedValue('1', 'INTEGER', '/x')).toBeUndefined();
    expect(typedValue(1700000000, 'TIME', '/x')).toEqual(new Date(1700000000000));
    expect(typedValue(3n, 'FLOAT', '/x')).toBe(3);
    codecError(() => typedValue({ objectId: 70000, instanceId: 0 }, 'OBJLNK', '/x'), '/x');
    codecError(() => typedValue(1, 'NONE', '/x'), '/x');
    codecError(() => coerceValue('x', 'BOOLEAN', '/x'), '/x');
  });
});

// Each codec applies the rules above; these pin the cases where two copies of them used to disagree.
describe('value rules: the same in every codec', () => {
  it('decodes an Integer -0 as 0 (SenML used to keep -0)', () => {
    const zero = single(9, 'INTEGER', 0);
    const decoded = [
      decode(ContentFormat.SENML_JSON, '[{"n":"/3/0/9","v":-0}]', '/3/0/9'),
      decode(ContentFormat.SENML_CBOR, Buffer.from('81a20066' + '2f332f302f39' + '02f98000', 'hex'), '/3/0/9'), // 2: -0.0
      decode(ContentFormat.LWM2M_CBOR, Buffer.from('a1830300' + '09' + 'f98000', 'hex'), '/3/0/9'),
      decode(ContentFormat.JSON, '{"bn":"/3/0/","e":[{"n":"9","v":-0}]}', '/3/0/9'),
      decode(ContentFormat.TEXT, '-0', '/3/0/9'),
      decode(ContentFormat.CBOR, Buffer.from('f98000', 'hex'), '/3/0/9'),
    ];
    for (const node of decoded) {
      expect(node).toEqual(zero);
      expect(Object.is((node as typeof zero).value, 0)).toBe(true);
    }
  });

  it('refuses a Time with a fraction of a second (SenML used to accept one)', () => {
    codecError(() => decode(ContentFormat.SENML_JSON, '[{"n":"/3/0/13","v":1700000000.5}]', '/3/0/13'), '/3/0/13');
    codecError(() => decode(ContentFormat.JSON, '{"e":[{"n":"/3/0/13","v":1700000000.5}]}', '/3/0/13'), '/3/0/13');
  });

  it('encodes a Time given as integer seconds (SenML and LwM2M CBOR used to refuse it)', () => {
    const node = single(13, 'TIME', 1700000000);
    expect(encode(ContentFormat.SENML_JSON, node, '/3/0/13')).toBe('[{"bn":"/3/0/","n":"13","v":1700000000}]');
    expect(codecs.encodeNode(ContentFormat.LWM2M_CBOR, node, parsePath('/3/0/13'), ctx).toString('hex')).toBe(
      'a18303000d1a6553f100',
    );
    expect(encode(ContentFormat.TEXT, node, '/3/0/13')).toBe('1700000000');
  });

  it('types an unknown integer beyond int64 as Unsigned Integer (SenML used to refuse it)', () => {
    const unsigned = instance(0, [single(1, 'UNSIGNED_INTEGER', 2n ** 64n - 1n)]);
    expect(decode(ContentFormat.SENML_JSON, '[{"n":"/4242/0/1","v":18446744073709551615}]', '/4242/0')).toEqual(
      unsigned,
    );
    expect(decode(ContentFormat.JSON, '{"e":[{"n":"/4242/0/1","v":18446744073709551615}]}', '/4242/0')).toEqual(
      unsigned,
    );
    expect(decode(ContentFormat.CBOR, Buffer.from('1bffffffffffffffff', 'hex'), '/4242/0/1')).toEqual(
      single(1, 'UNSIGNED_INTEGER', 2n ** 64n - 1n),
    );
  });
});
