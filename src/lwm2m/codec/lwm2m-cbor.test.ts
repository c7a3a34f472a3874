/**
 * LwM2M CBOR (11544) codec, LwM2M-Core 1.2 §7.4.7. The Read /3/0 content of the Device example
 * (LwM2M-Core 1.1.1 §7.4.5/§7.4.6) is checked in LwM2M CBOR form against an independent encoding
 * by cbor-x, and in every equivalent key layout (nested maps, array keys, indefinite lengths).
 */
import { Encoder } from 'cbor-x';
import { instance, multi, resourceInstance, single, type LwM2mNode } from '../node';
import { parsePath } from '../path';
import { lwm2mCborCodec as codec } from './lwm2m-cbor';
import { codecError, deviceInstanceExample, T, testModel } from '../../../test/support/codec-model';
import { ContentFormat, type CodecContext } from './types';

const ctx: CodecContext = { model: testModel };
const p = parsePath;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const cborX = new Encoder({ useRecords: false, mapsAsObjects: false });
const m = (entries: Array<[unknown, unknown]>): Map<unknown, unknown> => new Map(entries);

const DEVICE_RESOURCES: Array<[unknown, unknown]> = [
  [0, 'Open Mobile Alliance'],
  [1, 'Lightweight M2M Client'],
  [2, '345000123'],
  [3, '1.0'],
  [
    6,
    m([
      [0, 1],
      [1, 5],
    ]),
  ],
  [
    7,
    m([
      [0, 3800],
      [1, 5000],
    ]),
  ],
  [
    8,
    m([
      [0, 125],
      [1, 900],
    ]),
  ],
  [9, 100],
  [10, 15],
  [11, m([[0, 0]])],
  [13, 1367491215],
  [14, '+02:00'],
  [16, 'U'],
];

describe('LwM2M CBOR codec: single path (LwM2M-Core 1.2 §7.4.7)', () => {
  it('is content format 11544', () => {
    expect(codec.format).toBe(ContentFormat.LWM2M_CBOR);
  });

  it('encodes Read /3/0 as {[3, 0]: {...}}, byte for byte as an independent CBOR encoder', () => {
    const bytes = codec.encode(deviceInstanceExample(), p('/3/0'), ctx);
    expect(bytes.subarray(0, 5).toString('hex')).toBe('a1820300ad');
    expect(bytes.toString('hex')).toBe(cborX.encode(m([[[3, 0], m(DEVICE_RESOURCES)]])).toString('hex'));
    expect(codec.decode(bytes, p('/3/0'), ctx)).toEqual(deviceInstanceExample());
  });

  it.each([
    ['nested maps', m([[3, m([[0, m(DEVICE_RESOURCES)]])]])],
    [
      'array keys down to the resource instances',
      m(
        DEVICE_RESOURCES.flatMap(([rid, v]) =>
          v instanceof Map
            ? [...v].map(([riid, x]): [unknown, unknown] => [[3, 0, rid, riid], x])
            : [[[3, 0, rid], v] as [unknown, unknown]],
        ),
      ),
    ],
    ['one-element array keys', m([[[3], m([[[0], m(DEVICE_RESOURCES)]])]])],
  ])('decodes the same content written with %s', (_layout, content) => {
    expect(codec.decode(cborX.encode(content), p('/3/0'), ctx)).toEqual(deviceInstanceExample());
  });

  it('decodes indefinite-length maps and arrays', () => {
    // {_ [_ 3, 0, 9]: 100}
    expect(codec.decode(hex('bf 9f 03 00 09 ff 18 64 ff'), p('/3/0/9'), ctx)).toEqual(single(9, 'INTEGER', 100));
  });

  it('collapses single-child chains into array keys', () => {
    expect(codec.encode(single(9, 'INTEGER', 100), p('/3/0/9'), ctx).toString('hex')).toBe('a18303000918' + '64');
    expect(codec.encode(resourceInstance(1, 'INTEGER', 5), p('/3/0/6/1'), ctx).toString('hex')).toBe('a1840300060105');
    expect(
      codec
        .encode(
          multi(6, 'INTEGER', [
            [0, 1],
            [1, 5],
          ]),
          p('/3/0/6'),
          ctx,
        )
        .toString('hex'),
    ).toBe('a183030006a200010105');
  });

  it('writes every data type as LwM2M-Core 1.2 Table C.-2 says and reads it back', () => {
    const node = instance(0, [
      single(T.STRING, 'STRING', 'x'),
      single(T.INTEGER, 'INTEGER', -9223372036854775808n),
      single(T.UNSIGNED, 'UNSIGNED_INTEGER', 18446744073709551615n),
      single(T.FLOAT, 'FLOAT', 22.5),
      single(T.BOOLEAN, 'BOOLEAN', true),
      single(T.OPAQUE, 'OPAQUE', Buffer.from([0xde, 0xad])),
      single(T.TIME, 'TIME', new Date(1700000000000)),
      single(T.OBJLNK, 'OBJLNK', { objectId: 66, instanceId: 0 }),
      single(T.CORELNK, 'CORELNK', '</3/0>'),
      multi(T.MULTI_FLOAT, 'FLOAT', [[0, 1e300]]),
    ]);
    const bytes = codec.encode(node, p(`/${T.OBJECT}/0`), ctx);
    // {[9000, 0]: {0: "x", 1: -2^63, 2: 2^64-1, 3: 22.5 (half), 4: true, 5: h'dead', 6: 1700000000,
    //   7: "66:0", 8: "</3/0>", 12: {0: 1e300 (double)}}}
    expect(bytes).toEqual(
      hex(
        'a1 82 192328 00 aa 00 6178 01 3b7fffffffffffffff 02 1bffffffffffffffff 03 f94da0 04 f5 05 42dead' +
          ' 06 1a6553f100 07 6436363a30 08 663c2f332f303e 0c a1 00 fb7e37e43c8800759c',
      ),
    );
    expect(codec.decode(bytes, p(`/${T.OBJECT}/0`), ctx)).toEqual(node);
  });

  it('accepts a tagged epoch date for Time and a decimal fraction for Float', () => {
    // {[3, 0, 13]: 1(1367491215)}
    expect(codec.decode(hex('a1 83 03 00 0d c1 1a 51 82 42 8f'), p('/3/0/13'), ctx)).toEqual(
      single(13, 'TIME', new Date(1367491215000)),
    );
    // {[3303, 0, 5700]: 4([-1, 225])}
    expect(codec.decode(hex('a1 83 19 0c e7 00 19 16 44 c4 82 20 18 e1'), p('/3303/0/5700'), ctx)).toEqual(
      single(5700, 'FLOAT', 22.5),
    );
  });

  it('types values of unknown resources from their CBOR type', () => {
    // {[9999, 0]: {0: 1, 1: 1.5, 2: "s", 3: true, 4: h'01'}}
    const node = codec.decode(hex('a1 82 19 27 0f 00 a5 00 01 01 f9 3e 00 02 61 73 03 f5 04 41 01'), p('/9999/0'), ctx);
    expect(node).toEqual(
      instance(0, [
        single(0, 'INTEGER', 1),
        single(1, 'FLOAT', 1.5),
        single(2, 'STRING', 's'),
        single(3, 'BOOLEAN', true),
        single(4, 'OPAQUE', Buffer.from([1])),
      ]),
    );
  });

  it('supports every level but the root', () => {
    expect(codec.supports(p('/'))).toBe(false);
    expect(codec.supports(p('/3/0/6'), multi(6, 'INTEGER', []))).toBe(true);
    expect(codec.supports(p('/3/0'), resourceInstance(0, 'INTEGER', 1))).toBe(false);
    // As TLV and LwM2M JSON: a node whose id is not the path's is not supported (encoding refuses it).
    expect(codec.supports(p('/3/0/9'), single(10, 'INTEGER', 1))).toBe(false);
  });
});

describe('LwM2M CBOR codec: errors name the path', () => {
  it.each([
    ['bad CBOR', 'a1 83 03', '/3/0', '/3/0'],
    ['trailing bytes', 'a0 00', '/3/0', '/3/0'],
    ['an array instead of a map', '81 01', '/3/0', '/3/0'],
    ['an integer instead of a map', '01', '/3/0', '/3/0'],
    ['an empty array key', 'a1 80 01', '/3/0', '/3/0'],
    ['a text key', 'a1 03 a1 62 32 36 a1 01 01', '/3/0', '/3'],
    ['a float key', 'a1 f9 3e 00 01', '/3/0', '/3/0'],
    ['an id above 65534', 'a1 82 03 1a 00 01 00 00 01', '/3/0', '/3'],
    ['a path of 5 levels', 'a1 85 03 00 06 01 02 01', '/3/0', '/3/0/6/1/2'],
    ['a value at instance level', 'a1 82 03 00 01', '/3/0', '/3/0'],
    ['an array as value', 'a1 83 03 00 09 81 01', '/3/0', '/3/0/9'],
    ['a value outside the target path', 'a1 83 03 01 09 01', '/3/0', '/3/1/9'],
    ['a text value for an Integer', 'a1 83 03 00 09 61 31', '/3/0', '/3/0/9'],
    ['a bad Objlnk text', 'a1 84 18 41 00 00 00 62 36 36', '/65/0', '/65/0/0/0'],
    ['a null value for a Read', 'a1 83 03 00 09 f6', '/3/0', '/3/0/9'],
  ])('rejects %s', (_what, bytes, path, errorPath) => {
    expect(codecError(() => codec.decode(hex(bytes), p(path), ctx)).path).toBe(errorPath);
  });

  it('rejects encoding the same path twice or a value with children', () => {
    const twice = new Map<string, LwM2mNode | null>([
      ['/3/0/9', single(9, 'INTEGER', 1)],
      ['/3/0', instance(0, [single(9, 'INTEGER', 2)])],
    ]);
    expect(codecError(() => codec.encodeNodes(twice, ctx)).path).toBe('/3/0/9');
    const nested = new Map<string, LwM2mNode | null>([
      ['/3/0', null],
      ['/3/0/9', single(9, 'INTEGER', 2)],
    ]);
    expect(codecError(() => codec.encodeNodes(nested, ctx)).path).toBe('/3/0');
    expect(codecError(() => codec.encodePaths([p('/')])).path).toBe('/');
  });
});

describe('LwM2M CBOR codec: composite operations', () => {
  const paths = ['/3/0/0', '/3/0/9', '/1/0/1'].map(p);

  it('encodes a Read-Composite request as paths with null values', () => {
    const body = codec.encodePaths(paths);
    expect(body.toString('hex')).toBe(
      cborX
        .encode(
          m([
            [
              [3, 0],
              m([
                [0, null],
                [9, null],
              ]),
            ],
            [[1, 0, 1], null],
          ]),
        )
        .toString('hex'),
    );
    expect(codec.decodePaths(body)).toEqual(paths);
    expect(codecError(() => codec.decodePaths(hex('a1 83 03 00 09 01'))).path).toBe('/3/0/9');
  });

  it('decodes and encodes a Read-Composite response', () => {
    const nodes = new Map<string, LwM2mNode | null>([
      ['/3/0/0', single(0, 'STRING', 'Open Mobile Alliance')],
      ['/3/0/9', single(9, 'INTEGER', 95)],
      ['/1/0/1', single(1, 'INTEGER', 86400)],
    ]);
    const body = codec.encodeNodes(nodes, ctx);
    expect(body.toString('hex')).toBe(
      cborX
        .encode(
          m([
            [
              [3, 0],
              m([
                [0, 'Open Mobile Alliance'],
                [9, 95],
              ]),
            ],
            [[1, 0, 1], 86400],
          ]),
        )
        .toString('hex'),
    );
    expect(codec.decodeNodes(body, [...paths, p('/3303/0')], ctx)).toEqual(new Map([...nodes, ['/3303/0', null]]));
    expect(codec.decodeNodes(body, null, ctx)).toEqual(nodes);
    expect(codecError(() => codec.decodeNodes(body, [p('/3/0')], ctx)).path).toBe('/1/0/1');
  });

  it('decodes a Write-Composite with removals (null)', () => {
    // {[3, 0, 6, 1]: null, [3303, 0, 5700]: 21.5, [3, 0]: {14: "+01:00"}}
    const body = hex('a3 84 03 00 06 01 f6 83 19 0c e7 00 19 16 44 f9 4d 60 82 03 00 a1 0e 66 2b 30 31 3a 30 30');
    const expected = new Map<string, LwM2mNode | null>([
      ['/3/0/6/1', null],
      ['/3303/0/5700', single(5700, 'FLOAT', 21.5)],
      ['/3/0/14', single(14, 'STRING', '+01:00')],
    ]);
    expect(codec.decodeNodes(body, null, ctx)).toEqual(expected);
    expect(codec.decodeNodes(codec.encodeNodes(expected, ctx), null, ctx)).toEqual(expected);
    expect(codec.decodeTimestampedNodes(body, ctx)).toEqual([{ nodes: expected }]);
  });
});
