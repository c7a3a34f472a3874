import { instance, multi, object, resourceInstance, single } from '../lwm2m/node';
import { CodecError } from '../common/errors';
import { leafToJson, nodeResourceType, nodeToJson } from './values';
import { jsonValueSchema } from './value-records';

describe('typed JSON values', () => {
  it.each([
    ['INTEGER', 42, 42],
    ['negative INTEGER', -7, -7],
    ['FLOAT', 21.5, 21.5],
    ['FLOAT NaN', Number.NaN, 'NaN'],
    ['FLOAT +inf', Number.POSITIVE_INFINITY, 'Infinity'],
    ['FLOAT -inf', Number.NEGATIVE_INFINITY, '-Infinity'],
    ['INTEGER beyond 2^53', 2n ** 63n - 1n, '9223372036854775807'],
    ['negative INTEGER beyond 2^53', -(2n ** 63n), '-9223372036854775808'],
    ['BOOLEAN', true, true],
    ['STRING', 'Open Mobile Alliance', 'Open Mobile Alliance'],
    ['OPAQUE', Buffer.from([0, 1, 0xfe, 0xff]), 'AAH+/w=='],
    ['empty OPAQUE', Buffer.alloc(0), ''],
    ['TIME', new Date(1_714_564_800_000), '2024-05-01T12:00:00.000Z'],
    ['OBJLNK', { objectId: 3, instanceId: 0 }, '3:0'],
    ['null OBJLNK', { objectId: 65535, instanceId: 65535 }, '65535:65535'],
  ] as const)('%s', (_name, value, json) => {
    expect(leafToJson(value)).toEqual(json);
    expect(jsonValueSchema.parse(leafToJson(value))).toEqual(json);
  });

  it('refuses an invalid date with a CodecError', () => {
    expect(() => leafToJson(new Date(Number.NaN))).toThrow(CodecError);
  });

  it('turns structured nodes into objects keyed by id', () => {
    const inst = instance(0, [
      single(0, 'STRING', 'ACME'),
      multi(7, 'INTEGER', [
        [0, 3800],
        [1, 5000],
      ]),
      single(13, 'TIME', new Date(0)),
    ]);
    expect(nodeToJson(single(9, 'INTEGER', 87))).toBe(87);
    expect(nodeToJson(resourceInstance(1, 'INTEGER', 5000))).toBe(5000);
    expect(
      nodeToJson(
        multi(7, 'INTEGER', [
          [0, 3800],
          [1, 5000],
        ]),
      ),
    ).toEqual({ '0': 3800, '1': 5000 });
    expect(nodeToJson(inst)).toEqual({ '0': 'ACME', '7': { '0': 3800, '1': 5000 }, '13': '1970-01-01T00:00:00.000Z' });
    const obj = nodeToJson(object(3, [inst]));
    expect(obj).toEqual({ '0': { '0': 'ACME', '7': { '0': 3800, '1': 5000 }, '13': '1970-01-01T00:00:00.000Z' } });
    expect(jsonValueSchema.parse(obj)).toEqual(obj);
  });

  it('gives the LwM2M type of resource-level nodes only', () => {
    expect(nodeResourceType(single(1, 'OPAQUE', Buffer.alloc(1)))).toBe('OPAQUE');
    expect(nodeResourceType(multi(1, 'TIME', []))).toBe('TIME');
    expect(nodeResourceType(resourceInstance(1, 'OBJLNK', { objectId: 1, instanceId: 2 }))).toBe('OBJLNK');
    expect(nodeResourceType(instance(0, []))).toBeUndefined();
    expect(nodeResourceType(object(3, []))).toBeUndefined();
  });
});
