import { BridgeError } from '../../common/errors';
import { parsePath } from '../path';
import { instance, multi, object, resourceInstance, single, type LwM2mNode } from '../node';
import { ContentFormat, type CodecContext } from './types';
import { createLwM2mJsonCodec, lwm2mJsonCodec } from './lwm2m-json';
import { tlvCodec } from './tlv';
import { codecError, testModel, T } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const dec = (text: string, path: string): LwM2mNode =>
  lwm2mJsonCodec.decode(Buffer.from(text, 'utf8'), parsePath(path), ctx);
const enc = (node: LwM2mNode, path: string): string =>
  lwm2mJsonCodec.encode(node, parsePath(path), ctx).toString('utf8');
const series = (text: string, path: string) =>
  lwm2mJsonCodec.decodeTimestamped(Buffer.from(text, 'utf8'), parsePath(path), ctx);

// LwM2M-Core 1.0 §6.4.4 / 1.1 §7.4.4, JSON example: Read /3/0 (the Device object instance).
const DEVICE_JSON = `{"bn":"/3/0/",
 "e":[
  {"n":"0","sv":"Open Mobile Alliance"},
  {"n":"1","sv":"Lightweight M2M Client"},
  {"n":"2","sv":"345000123"},
  {"n":"3","sv":"1.0"},
  {"n":"6/0","v":1},
  {"n":"6/1","v":5},
  {"n":"7/0","v":3800},
  {"n":"7/1","v":5000},
  {"n":"8/0","v":125},
  {"n":"8/1","v":900},
  {"n":"9","v":100},
  {"n":"10","v":15},
  {"n":"11/0","v":0},
  {"n":"13","v":1367491215},
  {"n":"14","sv":"+02:00"},
  {"n":"16","sv":"U"}]
}`;
// The TLV form of the same instance (LwM2M-Core 1.0 §6.4.3.2, Single Object Instance Request Example).
const DEVICE_TLV = Buffer.from(
  'C800144F70656E204D6F62696C6520416C6C69616E6365C801164C69676874776569676874204D324D20436C69656E74C80209333435303030313233' +
    'C303312E30860641000141010588070842000ED842011388870841007D42010384C10964C10A0F830B410000C40D5182428FC60E2B30323A3030C11055',
  'hex',
);

describe('LwM2M JSON: spec examples', () => {
  it('decodes the Device example to the same node as its TLV form, and encodes it back', () => {
    const fromTlv = tlvCodec.decode(DEVICE_TLV, parsePath('/3/0'), ctx);
    const node = dec(DEVICE_JSON, '/3/0');
    expect(node).toEqual(fromTlv);
    expect(enc(node, '/3/0')).toBe(DEVICE_JSON.replace(/\s+(?=["{}\]])|\n/g, ''));
  });

  it('accepts other splits of the names between bn and n', () => {
    const expected = dec(DEVICE_JSON, '/3/0');
    const rooted = DEVICE_JSON.replace('"bn":"/3/0/"', '"bn":"/"').replace(/"n":"/g, '"n":"3/0/');
    expect(dec(rooted, '/3/0')).toEqual(expected);
    const noBase = DEVICE_JSON.replace('"bn":"/3/0/",', '').replace(/"n":"/g, '"n":"/3/0/');
    expect(dec(noBase, '/3/0')).toEqual(expected);
    expect(dec('{"bn":"3/0/","e":[{"n":"9","v":100}]}', '/3/0/9')).toEqual(single(9, 'INTEGER', 100));
    expect(dec(DEVICE_JSON, '/3')).toEqual(object(3, [expected as ReturnType<typeof instance>]));
  });

  // Time series as in the historical-representation example of LwM2M-Core 1.0 §6.4.4
  // (bt 25462634 with values 22.4 / 22.9 / 24.1 at t = -5 / -30 / -50).
  const SERIES = `{"bn":"/3303/0/5700","bt":25462634,"e":[{"v":22.4,"t":-5},{"v":22.9,"t":-30},{"v":24.1,"t":-50}]}`;

  it('returns one node per timestamp, oldest first (decodeTimestamped)', () => {
    expect(series(SERIES, '/3303/0/5700')).toEqual([
      { timestamp: (25462634 - 50) * 1000, node: single(5700, 'FLOAT', 24.1) },
      { timestamp: (25462634 - 30) * 1000, node: single(5700, 'FLOAT', 22.9) },
      { timestamp: (25462634 - 5) * 1000, node: single(5700, 'FLOAT', 22.4) },
    ]);
  });

  it('keeps the newest value per path in decode()', () => {
    expect(dec(SERIES, '/3303/0/5700')).toEqual(single(5700, 'FLOAT', 22.4));
  });

  it('groups the resources of an instance by time; entries without time are "now", last', () => {
    const text = `{"bn":"/3303/0/","e":[
      {"n":"5700","v":21.5,"t":1700000010},{"n":"5701","sv":"Cel","t":1700000010},
      {"n":"5700","v":20,"t":1700000000},{"n":"5601","v":19.5}]}`;
    expect(series(text, '/3303/0')).toEqual([
      { timestamp: 1700000000000, node: instance(0, [single(5700, 'FLOAT', 20)]) },
      { timestamp: 1700000010000, node: instance(0, [single(5700, 'FLOAT', 21.5), single(5701, 'STRING', 'Cel')]) },
      { node: instance(0, [single(5601, 'FLOAT', 19.5)]) },
    ]);
    expect(dec(text, '/3303/0')).toEqual(
      instance(0, [single(5700, 'FLOAT', 21.5), single(5701, 'STRING', 'Cel'), single(5601, 'FLOAT', 19.5)]),
    );
  });

  it('registers under both content-format numbers', () => {
    expect(createLwM2mJsonCodec(ContentFormat.JSON).format).toBe(11543);
    expect(createLwM2mJsonCodec(ContentFormat.JSON_LEGACY).format).toBe(1543);
  });
});

describe('LwM2M JSON: typed values', () => {
  const p = (rid: number): string => `/${T.OBJECT}/0/${rid}`;
  const one = (rid: number, value: string): string => `{"bn":"/${T.OBJECT}/0/","e":[{"n":"${rid}",${value}}]}`;

  it('round-trips every type with its value key', () => {
    const cases: Array<[number, LwM2mNode, string]> = [
      [T.STRING, single(T.STRING, 'STRING', 'a "quoted" \\ ✓\n'), '"sv":"a \\"quoted\\" \\\\ ✓\\n"'],
      [T.INTEGER, single(T.INTEGER, 'INTEGER', -7), '"v":-7'],
      [T.INTEGER, single(T.INTEGER, 'INTEGER', 9223372036854775807n), '"v":9223372036854775807'],
      [T.UNSIGNED, single(T.UNSIGNED, 'UNSIGNED_INTEGER', 18446744073709551615n), '"v":18446744073709551615'],
      [T.FLOAT, single(T.FLOAT, 'FLOAT', 1.1), '"v":1.1'],
      [T.BOOLEAN, single(T.BOOLEAN, 'BOOLEAN', true), '"bv":true'],
      [T.OPAQUE, single(T.OPAQUE, 'OPAQUE', Buffer.from([1, 2, 3, 4, 5])), '"sv":"AQIDBAU="'],
      [T.TIME, single(T.TIME, 'TIME', new Date(1367491215000)), '"v":1367491215'],
      [T.OBJLNK, single(T.OBJLNK, 'OBJLNK', { objectId: 66, instanceId: 1 }), '"ov":"66:1"'],
      [T.CORELNK, single(T.CORELNK, 'CORELNK', '</3/0>'), '"sv":"</3/0>"'],
    ];
    for (const [rid, node, value] of cases) {
      expect(enc(node, p(rid))).toBe(one(rid, value));
      expect(dec(one(rid, value), p(rid))).toEqual(node);
    }
  });

  it('keeps integer literals beyond 2^53 exact and range-checks them', () => {
    expect(dec(one(T.INTEGER, '"v":9007199254740993'), p(T.INTEGER))).toEqual(
      single(T.INTEGER, 'INTEGER', 9007199254740993n),
    );
    expect(dec(one(T.INTEGER, '"v":-9007199254740993'), p(T.INTEGER))).toEqual(
      single(T.INTEGER, 'INTEGER', -9007199254740993n),
    );
    codecError(() => dec(one(T.INTEGER, '"v":9223372036854775808'), p(T.INTEGER)), p(T.INTEGER));
    codecError(() => dec(one(T.INTEGER, '"v":1.5'), p(T.INTEGER)), p(T.INTEGER));
    codecError(() => dec(one(T.UNSIGNED, '"v":-1'), p(T.UNSIGNED)), p(T.UNSIGNED));
  });

  it('guesses the type of unknown resources from the value key and literal', () => {
    const text =
      '{"bn":"/4242/0/","e":[{"n":"0","v":3},{"n":"1","v":3.5},{"n":"2","sv":"s"},{"n":"3","bv":false},{"n":"4","ov":"1:2"},{"n":"5/7","v":1e2}]}';
    expect(dec(text, '/4242/0')).toEqual(
      instance(0, [
        single(0, 'INTEGER', 3),
        single(1, 'FLOAT', 3.5),
        single(2, 'STRING', 's'),
        single(3, 'BOOLEAN', false),
        single(4, 'OBJLNK', { objectId: 1, instanceId: 2 }),
        multi(5, 'FLOAT', [[7, 100]]),
      ]),
    );
  });

  it('rejects a value key that does not fit the model type', () => {
    codecError(() => dec('{"e":[{"n":"/3/0/9","sv":"100"}]}', '/3/0/9'), '/3/0/9');
    codecError(() => dec('{"e":[{"n":"/3/0/0","v":1}]}', '/3/0/0'), '/3/0/0');
    codecError(() => dec(one(T.BOOLEAN, '"v":1'), p(T.BOOLEAN)), p(T.BOOLEAN));
    codecError(() => dec(one(T.OPAQUE, '"sv":"!!"'), p(T.OPAQUE)), p(T.OPAQUE));
    codecError(() => dec(one(T.OBJLNK, '"ov":"1-2"'), p(T.OBJLNK)), p(T.OBJLNK));
    codecError(() => dec(one(T.TIME, '"v":1.5'), p(T.TIME)), p(T.TIME));
    codecError(() => dec(one(T.EXEC, '"sv":""'), p(T.EXEC)), p(T.EXEC));
  });
});

describe('LwM2M JSON: strict validation → CodecError', () => {
  it.each([
    ['not JSON', 'hello'],
    ['an empty payload', ''],
    ['a JSON array', '[]'],
    ['a missing "e"', '{"bn":"/3/0/"}'],
    ['"e" not an array', '{"e":{}}'],
    ['an unknown top-level key', '{"e":[],"ver":1}'],
    ['a duplicate key', '{"e":[],"e":[]}'],
    ['a non-string bn', '{"bn":3,"e":[]}'],
    ['a string bt', '{"bt":"1","e":[]}'],
    ['an entry with two values', '{"e":[{"n":"/3/0/9","v":1,"sv":"1"}]}'],
    ['an entry without value', '{"e":[{"n":"/3/0/9"}]}'],
    ['an unknown entry key', '{"e":[{"n":"/3/0/9","v":1,"u":"%"}]}'],
    ['a duplicate entry key', '{"e":[{"n":"/3/0/9","v":1,"v":2}]}'],
    ['a name outside the request path', '{"e":[{"n":"/3/1/9","v":1}]}'],
    ['a name that is an instance', '{"e":[{"n":"/3/0","v":1}]}'],
    ['a name with a leading zero', '{"e":[{"n":"/3/0/09","v":1}]}'],
    ['a name with an empty segment', '{"bn":"/3/0/","e":[{"n":"/9","v":1}]}'],
    ['a name with a reserved id', '{"e":[{"n":"/3/0/65535","v":1}]}'],
    ['a duplicate value for one path and time', '{"e":[{"n":"/3/0/9","v":1},{"n":"/3/0/9","v":2}]}'],
    ['a resource instance of a single resource', '{"e":[{"n":"/3/0/9/0","v":1}]}'],
    ['a multiple resource without instance id', '{"e":[{"n":"/3/0/6","v":1}]}'],
    ['trailing data', '{"e":[]} x'],
    ['an unterminated string', '{"e":[{"n":"/3/0/0,"sv":"x"}]}'],
    ['a bad escape', '{"e":[{"n":"/3/0/0","sv":"\\x"}]}'],
    ['a raw control character', '{"e":[{"n":"/3/0/0","sv":"a\u0001"}]}'],
    ['a leading-zero number', '{"e":[{"n":"/3/0/9","v":01}]}'],
    ['a NaN literal', '{"e":[{"n":"/3/0/9","v":NaN}]}'],
    ['an overflowing float', '{"e":[{"n":"/3303/0/5700","v":1e400}]}'],
    ['a trailing comma', '{"e":[{"n":"/3/0/9","v":1},]}'],
  ])('%s', (_label, text) => {
    codecError(() => dec(text, '/3/0'));
  });

  it('rejects invalid UTF-8, the root path and single values that are missing', () => {
    codecError(() => lwm2mJsonCodec.decode(Buffer.from([0x7b, 0xff, 0x7d]), parsePath('/3/0'), ctx), '/3/0');
    codecError(() => lwm2mJsonCodec.decode(Buffer.from('{"e":[]}'), {}, ctx), '/');
    codecError(() => dec('{"e":[]}', '/3/0/9'), '/3/0/9');
    codecError(() => dec('{"e":[]}', '/3/0/6/0'), '/3/0/6/0');
    expect(dec('{"e":[]}', '/3/0/6')).toEqual(multi(6, 'INTEGER', []));
    expect(dec('{"e":[]}', '/2')).toEqual(object(2, []));
  });

  it('never throws anything but a BridgeError on truncated input', () => {
    for (let i = 0; i < DEVICE_JSON.length; i++) {
      try {
        dec(DEVICE_JSON.slice(0, i), '/3/0');
      } catch (e) {
        expect(e).toBeInstanceOf(BridgeError);
      }
    }
  });
});

describe('LwM2M JSON: encoding', () => {
  it('names entries relative to the object instance for every path level', () => {
    expect(enc(resourceInstance(1, 'INTEGER', 5), '/3/0/6/1')).toBe('{"bn":"/3/0/","e":[{"n":"6/1","v":5}]}');
    expect(enc(single(9, 'INTEGER', 100), '/3/0/9')).toBe('{"bn":"/3/0/","e":[{"n":"9","v":100}]}');
    expect(
      enc(
        multi(6, 'INTEGER', [
          [0, 1],
          [1, 5],
        ]),
        '/3/0/6',
      ),
    ).toBe('{"bn":"/3/0/","e":[{"n":"6/0","v":1},{"n":"6/1","v":5}]}');
    const acl = object(2, [instance(0, [single(0, 'INTEGER', 1)]), instance(2, [multi(2, 'INTEGER', [[127, 7]])])]);
    expect(enc(acl, '/2')).toBe('{"bn":"/2/","e":[{"n":"0/0","v":1},{"n":"2/2/127","v":7}]}');
    expect(dec(enc(acl, '/2'), '/2')).toEqual(acl);
    expect(enc(instance(5, [single(0, 'INTEGER', 1)]), '/2')).toBe('{"bn":"/2/","e":[{"n":"5/0","v":1}]}');
  });

  it('rejects values that do not fit and nodes that do not match the path or the model', () => {
    codecError(() => enc(single(T.FLOAT, 'FLOAT', NaN), `/${T.OBJECT}/0/${T.FLOAT}`), `/${T.OBJECT}/0/${T.FLOAT}`);
    codecError(() => enc(single(9, 'STRING', 'x'), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(6, 'INTEGER', 1), '/3/0/6'), '/3/0/6');
    codecError(() => enc(single(9, 'INTEGER', 1), '/3/0/10'), '/3/0/10');
    codecError(() => enc(single(9, 'INTEGER', 1), '/'), '/');
    expect(lwm2mJsonCodec.supports(parsePath('/3/0'), instance(0, []))).toBe(true);
    expect(lwm2mJsonCodec.supports(parsePath('/3/0'), single(9, 'INTEGER', 1))).toBe(false);
    expect(lwm2mJsonCodec.supports({})).toBe(false);
  });
});
