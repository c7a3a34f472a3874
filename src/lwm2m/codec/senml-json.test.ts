/**
 * SenML JSON (110) codec, LwM2M-Core 1.1 §7.4.5. Golden text: the Read /3/0 example of
 * LwM2M-Core 1.1.1 §7.4.5 (same records as the SenML CBOR example of §7.4.6).
 */
import { instance, multi, object, resourceInstance, single, type LwM2mNode } from '../node';
import { parsePath } from '../path';
import { senmlJsonCodec as codec } from './senml-json';
import { codecError, deviceInstanceExample, T, testModel } from '../../../test/support/codec-model';
import { ContentFormat, type CodecContext } from './types';

const ctx: CodecContext = { model: testModel };
const p = parsePath;
const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const decode = (s: string, path: string): LwM2mNode => codec.decode(text(s), p(path), ctx);
const encode = (node: LwM2mNode, path: string): string => codec.encode(node, p(path), ctx).toString('utf8');

// LwM2M-Core 1.1.1 §7.4.5: SenML JSON payload of Read /3/0.
const READ_3_0 =
  '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},' +
  '{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},' +
  '{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},' +
  '{"n":"11/0","v":0},{"n":"13","v":1367491215},{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]';

describe('SenML JSON codec: single path (LwM2M-Core 1.1 §7.4.5)', () => {
  it('is content format 110', () => {
    expect(codec.format).toBe(ContentFormat.SENML_JSON);
  });

  it('decodes the Read /3/0 example of §7.4.5', () => {
    expect(decode(READ_3_0, '/3/0')).toEqual(deviceInstanceExample());
  });

  it('encodes the Device instance to exactly the text of the §7.4.5 example', () => {
    expect(encode(deviceInstanceExample(), '/3/0')).toBe(READ_3_0);
  });

  it('handles a single resource, whatever the base name split', () => {
    const node = single(0, 'STRING', 'Open Mobile Alliance');
    expect(encode(node, '/3/0/0')).toBe('[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"}]');
    expect(decode('[{"bn":"/3/0/0","vs":"Open Mobile Alliance"}]', '/3/0/0')).toEqual(node);
    expect(decode('[{"n":"/3/0/0","vs":"Open Mobile Alliance"}]', '/3/0/0')).toEqual(node);
  });

  it('handles a multiple-instance resource and a resource instance', () => {
    const node = multi(6, 'INTEGER', [
      [0, 1],
      [1, 5],
    ]);
    expect(encode(node, '/3/0/6')).toBe('[{"bn":"/3/0/","n":"6/0","v":1},{"n":"6/1","v":5}]');
    expect(decode('[{"bn":"/3/0/6/","n":"0","v":1},{"n":"1","v":5}]', '/3/0/6')).toEqual(node);
    const ri = resourceInstance(1, 'INTEGER', 5);
    expect(encode(ri, '/3/0/6/1')).toBe('[{"bn":"/3/0/","n":"6/1","v":5}]');
    expect(decode('[{"n":"/3/0/6/1","v":5}]', '/3/0/6/1')).toEqual(ri);
  });

  it('handles an object with several instances', () => {
    const node = object(1, [
      instance(0, [
        single(0, 'INTEGER', 101),
        single(1, 'INTEGER', 86400),
        single(6, 'BOOLEAN', true),
        single(7, 'STRING', 'U'),
      ]),
      instance(1, [single(0, 'INTEGER', 102), single(1, 'INTEGER', 172800), single(6, 'BOOLEAN', false)]),
    ]);
    const json = encode(node, '/1');
    expect(json).toBe(
      '[{"bn":"/1/0/","n":"0","v":101},{"n":"1","v":86400},{"n":"6","vb":true},{"n":"7","vs":"U"},' +
        '{"bn":"/1/1/","n":"0","v":102},{"n":"1","v":172800},{"n":"6","vb":false}]',
    );
    expect(decode(json, '/1')).toEqual(node);
  });

  it('encodes an instance for an object path (Create, LwM2M-Core 1.1 §6.3.6)', () => {
    const inst = instance(2, [single(0, 'INTEGER', 103)]);
    expect(encode(inst, '/1')).toBe('[{"bn":"/1/2/","n":"0","v":103}]');
    expect(decode('[{"bn":"/1/2/","n":"0","v":103}]', '/1')).toEqual(object(1, [inst]));
  });

  it('decodes Objlnk "vlo" values (modelled on Read /65/0, LwM2M-Core 1.1 §7.4.5 Table 7.4.5-4)', () => {
    const json =
      '[{"bn":"/65/0/","n":"0/0","vlo":"66:0"},{"n":"0/1","vlo":"66:1"},{"n":"1","vs":"8613800755500"},{"n":"2","v":1}]';
    const node = instance(0, [
      multi(0, 'OBJLNK', [
        [0, { objectId: 66, instanceId: 0 }],
        [1, { objectId: 66, instanceId: 1 }],
      ]),
      single(1, 'STRING', '8613800755500'),
      single(2, 'INTEGER', 1),
    ]);
    expect(decode(json, '/65/0')).toEqual(node);
    expect(encode(node, '/65/0')).toBe(json);
  });

  it('round-trips every data type of the test object', () => {
    const node = instance(0, [
      single(T.STRING, 'STRING', 'héllo "x"'),
      single(T.INTEGER, 'INTEGER', -9223372036854775808n),
      single(T.UNSIGNED, 'UNSIGNED_INTEGER', 18446744073709551615n),
      single(T.FLOAT, 'FLOAT', 23),
      single(T.BOOLEAN, 'BOOLEAN', false),
      single(T.OPAQUE, 'OPAQUE', Buffer.from([0xfb, 0xff, 0x00, 0x01])),
      single(T.TIME, 'TIME', new Date(1700000000000)),
      single(T.OBJLNK, 'OBJLNK', { objectId: 65535, instanceId: 65535 }),
      single(T.CORELNK, 'CORELNK', '</3/0>;ver=1.1'),
      multi(T.MULTI_INTEGER, 'INTEGER', [
        [3, 7],
        [5, -1],
      ]),
      multi(T.MULTI_FLOAT, 'FLOAT', [
        [0, 1.5],
        [1, -0.1],
      ]),
    ]);
    const json = encode(node, `/${T.OBJECT}/0`);
    expect(json).toContain('{"n":"1","v":-9223372036854775808}');
    expect(json).toContain('{"n":"2","v":18446744073709551615}');
    expect(json).toContain('{"n":"5","vd":"-_8AAQ"}'); // base64url, no padding (RFC 8428 §5)
    expect(json).toContain('{"n":"6","v":1700000000}');
    expect(json).toContain('{"n":"7","vlo":"65535:65535"}');
    expect(decode(json, `/${T.OBJECT}/0`)).toEqual(node);
  });

  it('types values of resources the model does not know from their SenML labels', () => {
    const node = decode(
      '[{"bn":"/9999/0/","n":"0","v":1},{"n":"1","v":1.5},{"n":"2","vs":"x"},{"n":"3","vb":true},' +
        '{"n":"4","vd":"AQ"},{"n":"5","vlo":"3:0"},{"n":"6/0","v":1},{"n":"6/1","v":2.5}]',
      '/9999/0',
    );
    expect(node).toEqual(
      instance(0, [
        single(0, 'INTEGER', 1),
        single(1, 'FLOAT', 1.5),
        single(2, 'STRING', 'x'),
        single(3, 'BOOLEAN', true),
        single(4, 'OPAQUE', Buffer.from([1])),
        single(5, 'OBJLNK', { objectId: 3, instanceId: 0 }),
        multi(6, 'FLOAT', [
          [0, 1],
          [1, 2.5],
        ]),
      ]),
    );
  });

  it('honours the object versions of the context', () => {
    const seen: Array<string | undefined> = [];
    const versioned: CodecContext = {
      model: { getObject: () => undefined, getResource: (o, r, v) => (seen.push(v), testModel.getResource(o, r, v)) },
      versions: new Map([[3, '1.2']]),
    };
    codec.decode(text('[{"n":"/3/0/9","v":1}]'), p('/3/0/9'), versioned);
    expect(seen).toEqual(['1.2']);
  });

  it('supports every level but the root', () => {
    expect(codec.supports(p('/'))).toBe(false);
    expect(codec.supports(p('/3'))).toBe(true);
    expect(codec.supports(p('/3/0/6/1'), resourceInstance(1, 'INTEGER', 1))).toBe(true);
    expect(codec.supports(p('/3/0'), single(0, 'STRING', 'x'))).toBe(false);
    // As TLV and LwM2M JSON: a node whose id is not the path's is not supported (encoding refuses it).
    expect(codec.supports(p('/3'), instance(0, []))).toBe(true);
    expect(codec.supports(p('/3/1'), instance(0, []))).toBe(false);
  });
});

describe('SenML JSON codec: errors name the path', () => {
  it.each([
    ['a record outside the target path', '[{"n":"/3/1/0","vs":"x"}]', '/3/0', '/3/1/0'],
    ['a name that is not a path', '[{"n":"urn:dev:1","vs":"x"}]', '/3/0', 'urn:dev:1'],
    ['a name with a bad segment', '[{"bn":"/3/0/","n":"x1","vs":"x"}]', '/3/0', '/3/0/x1'],
    ['a string for an Integer', '[{"n":"/3/0/9","vs":"100"}]', '/3/0/9', '/3/0/9'],
    ['a fraction for an Integer', '[{"n":"/3/0/9","v":1.5}]', '/3/0/9', '/3/0/9'],
    ['an Integer above int64', '[{"n":"/3/0/9","v":9223372036854775808}]', '/3/0/9', '/3/0/9'],
    [
      'a negative Unsigned',
      `[{"n":"/${T.OBJECT}/0/${T.UNSIGNED}","v":-1}]`,
      `/${T.OBJECT}/0`,
      `/${T.OBJECT}/0/${T.UNSIGNED}`,
    ],
    ['a bad Objlnk', '[{"n":"/65/0/0/0","vlo":"66"}]', '/65/0', '/65/0/0/0'],
    ['an Objlnk id above 65535', '[{"n":"/65/0/0/0","vlo":"66:65536"}]', '/65/0', '/65/0/0/0'],
    ['a value for an executable resource', '[{"n":"/3/0/4","v":1}]', '/3/0', '/3/0/4'],
    ['a duplicate record', '[{"n":"/3/0/9","v":1},{"n":"/3/0/9","v":2}]', '/3/0', '/3/0/9'],
    ['a multiple resource without instance ids', '[{"n":"/3/0/6","v":1}]', '/3/0', '/3/0/6'],
    ['a single resource with an instance id', '[{"n":"/3/0/9/0","v":1}]', '/3/0', '/3/0/9/0'],
    ['a record without value', '[{"n":"/3/0/9"}]', '/3/0', '/3/0/9'],
    ['a value at instance level', '[{"n":"/3/0","v":1}]', '/3', '/3/0'],
    ['bad JSON', '[{"n":"/3/0/9","v":1}', '/3/0', '/3/0'],
    ['a non-array payload', '{"n":"/3/0/9","v":1}', '/3/0', '/3/0'],
  ])('rejects %s', (_what, payload, path, errorPath) => {
    expect(codecError(() => decode(payload, path)).path).toBe(errorPath);
  });

  it('rejects decoding or encoding a node for the root path', () => {
    expect(codecError(() => decode('[]', '/')).path).toBe('/');
    expect(codecError(() => encode(single(0, 'STRING', 'x'), '/')).path).toBe('/');
  });

  it('rejects nodes that do not match the path or their type', () => {
    expect(codecError(() => encode(single(1, 'STRING', 'x'), '/3/0/0')).path).toBe('/3/0/0');
    expect(codecError(() => encode(instance(0, []), '/3/0/0')).path).toBe('/3/0/0');
    expect(codecError(() => encode(single(9, 'INTEGER', 'x'), '/3/0/9')).path).toBe('/3/0/9');
    expect(codecError(() => encode(single(9, 'INTEGER', 1.5), '/3/0/9')).path).toBe('/3/0/9');
    expect(codecError(() => encode(single(3, 'FLOAT', NaN), '/3303/0/3')).path).toBe('/3303/0/3');
    expect(codecError(() => encode(single(7, 'OBJLNK', { objectId: 70000, instanceId: 0 }), '/1/0/7')).path).toBe(
      '/1/0/7',
    );
  });
});
