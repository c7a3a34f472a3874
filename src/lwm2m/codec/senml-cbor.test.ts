/**
 * SenML CBOR (112) codec, LwM2M-Core 1.1 §7.4.6. Golden bytes: the Read /3/0 example of
 * LwM2M-Core 1.1.1 §7.4.6, and the Objlnk example given by OMA for §7.4.6
 * (OMA_LwM2M_for_Developers issue #484: [{"n":"/65/0/0/0","vlo":"66:0"}]).
 */
import { Decoder } from 'cbor-x';
import { instance, multi, resourceInstance, single, type LwM2mNode } from '../node';
import { parsePath } from '../path';
import { senmlCborCodec as codec } from './senml-cbor';
import { codecError, deviceInstanceExample, T, testModel } from '../../../test/support/codec-model';
import { ContentFormat, type CodecContext } from './types';

const ctx: CodecContext = { model: testModel };
const p = parsePath;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const cbor = new Decoder({ mapsAsObjects: false, useRecords: false });

// LwM2M-Core 1.1.1 §7.4.6: SenML CBOR payload of Read /3/0.
const READ_3_0 = `
90 a3 21 65 2f 33 2f 30 2f 00 61 30 03 74 4f 70 65 6e 20 4d 6f 62 69 6c 65 20 41 6c 6c 69 61 6e 63 65
a2 00 61 31 03 76 4c 69 67 68 74 77 65 69 67 68 74 20 4d 32 4d 20 43 6c 69 65 6e 74
a2 00 61 32 03 69 33 34 35 30 30 30 31 32 33 a2 00 61 33 03 63 31 2e 30
a2 00 63 36 2f 30 02 01 a2 00 63 36 2f 31 02 05 a2 00 63 37 2f 30 02 19 0e d8 a2 00 63 37 2f 31 02 19 13 88
a2 00 63 38 2f 30 02 18 7d a2 00 63 38 2f 31 02 19 03 84 a2 00 61 39 02 18 64 a2 00 62 31 30 02 0f
a2 00 64 31 31 2f 30 02 00 a2 00 62 31 33 02 1a 51 82 42 8f a2 00 62 31 34 03 66 2b 30 32 3a 30 30
a2 00 62 31 36 03 61 55`;

// OMA's SenML CBOR encoding of [{"n":"/65/0/0/0","vlo":"66:0"}] (the "vlo" key is a text string).
const OBJLNK_65 = '81 a2 00 69 2f 36 35 2f 30 2f 30 2f 30 63 76 6c 6f 64 36 36 3a 30';

describe('SenML CBOR codec: single path (LwM2M-Core 1.1 §7.4.6)', () => {
  it('is content format 112', () => {
    expect(codec.format).toBe(ContentFormat.SENML_CBOR);
  });

  it('decodes the Read /3/0 example of §7.4.6', () => {
    expect(codec.decode(hex(READ_3_0), p('/3/0'), ctx)).toEqual(deviceInstanceExample());
  });

  it('encodes the Device instance to exactly the bytes of the §7.4.6 example', () => {
    expect(codec.encode(deviceInstanceExample(), p('/3/0'), ctx).toString('hex')).toBe(hex(READ_3_0).toString('hex'));
  });

  it('decodes the Objlnk example ("vlo" text key) and round-trips Objlnk values', () => {
    const node = resourceInstance(0, 'OBJLNK', { objectId: 66, instanceId: 0 });
    expect(codec.decode(hex(OBJLNK_65), p('/65/0/0/0'), ctx)).toEqual(node);
    const encoded = codec.encode(node, p('/65/0/0/0'), ctx);
    expect(cbor.decode(encoded)).toEqual([
      new Map<unknown, unknown>([
        [-2, '/65/0/'],
        [0, '0/0'],
        ['vlo', '66:0'],
      ]),
    ]);
    expect(codec.decode(encoded, p('/65/0/0/0'), ctx)).toEqual(node);
  });

  it('writes Opaque as a byte string, Float as the shortest float, integers exactly', () => {
    const node = instance(0, [
      single(T.INTEGER, 'INTEGER', -9223372036854775808n),
      single(T.UNSIGNED, 'UNSIGNED_INTEGER', 18446744073709551615n),
      single(T.FLOAT, 'FLOAT', 23),
      single(T.OPAQUE, 'OPAQUE', Buffer.from([0xde, 0xad])),
      single(T.TIME, 'TIME', new Date(1700000000000)),
      multi(T.MULTI_FLOAT, 'FLOAT', [
        [0, 22.5],
        [1, 22.4],
      ]),
    ]);
    const bytes = codec.encode(node, p(`/${T.OBJECT}/0`), ctx);
    const h = bytes.toString('hex');
    expect(h).toContain('a321682f393030302f302f' + '006131' + '023b7fffffffffffffff'); // {-2: "/9000/0/", 0: "1", 2: -2^63}
    expect(h).toContain('a20061320' + '21bffffffffffffffff'); // {0: "2", 2: 2^64-1}
    expect(h).toContain('a2006133' + '02f94dc0'); // {0: "3", 2: 23.0} as a half float
    expect(h).toContain('a2006135' + '0842dead'); // {0: "5", 8: h'dead'}
    expect(h).toContain('a2006136' + '021a6553f100'); // {0: "6", 2: 1700000000}
    expect(h).toContain('02f94da0'); // 22.5 as a half float
    expect(h).toContain('02fb4036666666666666'); // 22.4 as a double
    expect(codec.decode(bytes, p(`/${T.OBJECT}/0`), ctx)).toEqual(node);
  });

  it('returns Opaque values that do not alias the payload buffer', () => {
    // [{0: "/9000/0/5", 8: h'dead'}]
    const payload = hex('81 a2 00 69 2f 39 30 30 30 2f 30 2f 35 08 42 de ad');
    const node = codec.decode(payload, p(`/${T.OBJECT}/0/${T.OPAQUE}`), ctx);
    payload.fill(0);
    expect(node).toEqual(single(T.OPAQUE, 'OPAQUE', Buffer.from([0xde, 0xad])));
  });

  it('accepts a Time given as a CBOR epoch date (tag 1, LwM2M-Core 1.2 Table C.-2)', () => {
    // [{0: "/3/0/13", 2: 1(1367491215)}]
    const node = codec.decode(hex('81 a2 00 67 2f 33 2f 30 2f 31 33 02 c1 1a 51 82 42 8f'), p('/3/0/13'), ctx);
    expect(node).toEqual(single(13, 'TIME', new Date(1367491215000)));
    // ... but not for an Integer resource.
    expect(
      codecError(() => codec.decode(hex('81 a2 00 66 2f 33 2f 30 2f 39 02 c1 1a 51 82 42 8f'), p('/3/0/9'), ctx)).path,
    ).toBe('/3/0/9');
  });

  it('decodes 64-bit integers beyond 2^53 as bigints', () => {
    // [{0: "/3/0/10", 2: 9007199254740993}]
    const node = codec.decode(hex('81 a2 00 67 2f 33 2f 30 2f 31 30 02 1b 00 20 00 00 00 00 00 01'), p('/3/0/10'), ctx);
    expect(node).toEqual(single(10, 'INTEGER', 9007199254740993n));
  });
});

describe('SenML CBOR codec: errors name the path', () => {
  it.each([
    ['bad CBOR', 'ff', '/3/0', '/3/0'],
    ['a map instead of a pack', 'a1 00 61 30', '/3/0', '/3/0'],
    ['a record that is not a map', '81 82 00 01', '/3/0', '/3/0'],
    ['an unknown integer label', '81 a2 00 66 2f 33 2f 30 2f 39 18 63 01', '/3/0', '/3/0'],
    ['a name that is not a path', '81 a2 00 63 61 62 63 02 01', '/3/0', 'abc'],
    ['a record outside the target path', '81 a2 00 66 2f 33 2f 31 2f 39 02 01', '/3/0', '/3/1/9'],
    ['a text value for an Integer', '81 a2 00 66 2f 33 2f 30 2f 39 03 61 31', '/3/0', '/3/0/9'],
    ['a byte string name', '81 a2 00 41 30 02 01', '/3/0', '/3/0'],
  ])('rejects %s', (_what, bytes, path, errorPath) => {
    expect(codecError(() => codec.decode(hex(bytes), p(path), ctx)).path).toBe(errorPath);
  });
});

describe('SenML CBOR codec: composite and timestamps', () => {
  it('encodes a Read-Composite request as records with names only', () => {
    const paths = [p('/3/0/9'), p('/1/0')];
    const body = codec.encodePaths(paths);
    // [{0: "/3/0/9"}, {0: "/1/0"}]
    expect(body.toString('hex')).toBe('82a100662f332f302f39a100642f312f30');
    expect(codec.decodePaths(body)).toEqual(paths);
  });

  it('decodes a Write-Composite with a removal and encodes it back', () => {
    const nodes = new Map<string, LwM2mNode | null>([
      ['/3303/0/5700', single(5700, 'FLOAT', 21.5)],
      ['/3/0/11/0', null],
    ]);
    const bytes = codec.encodeNodes(nodes, ctx);
    expect(codec.decodeNodes(bytes, null, ctx)).toEqual(nodes);
  });

  it('groups a Send payload by resolved time (bt = -3, t = 6)', () => {
    // [{-2: "/3303/0/5700", -3: 1700000000, 2: 20.5}, {6: 60, 2: 21}]
    const body = hex('82 a3 21 6c 2f 33 33 30 33 2f 30 2f 35 37 30 30 22 1a 65 53 f1 00 02 f9 4d 20 a2 06 18 3c 02 15');
    expect(codec.decodeTimestampedNodes(body, ctx)).toEqual([
      { timestamp: 1700000000000, nodes: new Map([['/3303/0/5700', single(5700, 'FLOAT', 20.5)]]) },
      { timestamp: 1700000060000, nodes: new Map([['/3303/0/5700', single(5700, 'FLOAT', 21)]]) },
    ]);
    expect(codec.decodeTimestamped(body, p('/3303/0'), ctx)).toEqual([
      { timestamp: 1700000000000, node: instance(0, [single(5700, 'FLOAT', 20.5)]) },
      { timestamp: 1700000060000, node: instance(0, [single(5700, 'FLOAT', 21)]) },
    ]);
  });
});
