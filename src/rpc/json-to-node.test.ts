import { createModelRegistry } from '../lwm2m/model/builtin';
import type { ObjectModelLookup } from '../lwm2m/model/types';
import { parsePath } from '../lwm2m/path';
import { jsonToInstance, jsonToNode, jsonToValue } from './json-to-node';

let model: ObjectModelLookup;
beforeAll(async () => {
  model = (await createModelRegistry()).registry;
});
const ctx = () => ({ model, versions: new Map<number, string>() });

describe('jsonToValue', () => {
  it.each([
    ['INTEGER', 5, 5],
    ['INTEGER', '9007199254740993', 9007199254740993n],
    ['UNSIGNED_INTEGER', '18446744073709551615', 18446744073709551615n],
    ['FLOAT', 'Infinity', Number.POSITIVE_INFINITY],
    ['BOOLEAN', 'true', true],
    ['STRING', 12, '12'],
    ['OPAQUE', 'AQID', Buffer.from([1, 2, 3])],
    ['OPAQUE', '0x00ac', Buffer.from([0, 0xac])],
    ['TIME', 1_700_000_000, new Date(1_700_000_000_000)],
    ['OBJLNK', '3:0', { objectId: 3, instanceId: 0 }],
  ] as const)('%s from %j', (type, input, expected) => {
    expect(jsonToValue(type, input, '/x')).toEqual(expected);
  });

  it.each([
    ['INTEGER', 1.5, /expected an integer/],
    ['INTEGER', '9223372036854775808', /9223372036854775808 is out of range for INTEGER/],
    ['UNSIGNED_INTEGER', -1, /expected an unsigned integer/],
    ['BOOLEAN', 1, /expected a boolean/],
    ['OPAQUE', '00AC!', /expected base64 or "0x" hex/],
    ['TIME', 'yesterday', /expected an ISO 8601 time/],
    ['OBJLNK', '3-0', /"3-0" is not an Objlnk "oid:iid"/],
  ] as const)('%s refuses %j', (type, input, message) => {
    expect(() => jsonToValue(type, input, '/x')).toThrow(message);
  });
});

describe('jsonToNode', () => {
  it('types a resource, a multi-instance resource and an instance by the object model', () => {
    expect(jsonToNode(ctx(), parsePath('/3/0/15'), 'UTC')).toEqual({
      kind: 'resource',
      id: 15,
      type: 'STRING',
      value: 'UTC',
    });
    const power = jsonToNode(ctx(), parsePath('/3/0/6'), { '0': 1, '1': 5 });
    expect(power).toMatchObject({ kind: 'multiResource', id: 6, type: 'INTEGER' });
    const inst = jsonToNode(ctx(), parsePath('/3/0'), { '14': '+01:00', '15': 'Europe/Paris' });
    expect(inst.kind).toBe('instance');
  });

  it('names the path of a bad value, an unknown resource, and a wrong shape', () => {
    expect(() => jsonToNode(ctx(), parsePath('/3/0'), { '9': 'high' })).toThrow(
      '/3/0/9: expected an integer, got "high"',
    );
    expect(() => jsonToNode(ctx(), parsePath('/3/0/999'), 1)).toThrow(
      /resource 999 of object 3 is not in the object model/,
    );
    expect(() => jsonToNode(ctx(), parsePath('/3/0/15'), { '0': 'x' })).toThrow(
      /single-instance resource takes a value/,
    );
    expect(() => jsonToNode(ctx(), parsePath('/3'), {})).toThrow(/object instance, a resource or a resource instance/);
  });

  it('builds a Create instance', () => {
    const i = jsonToInstance(ctx(), 3303, 4, { '5700': 20.5, '5701': 'Cel' });
    expect(i.id).toBe(4);
    expect(i.resources.get(5700)).toMatchObject({ type: 'FLOAT', value: 20.5 });
  });
});
