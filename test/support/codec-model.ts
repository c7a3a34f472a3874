/**
 * Test fixture for the codec tests (not used in production): a tiny in-memory ObjectModelLookup, the
 * Device instance of the LwM2M-Core examples and a CodecError assertion.
 * Resource ids and types follow the OMA registry definitions of objects 1, 2, 3 and 3303; objects 65
 * and 66 are the Objlnk example objects of LwM2M-Core 1.0 §6.4.3.3; 9000 is a synthetic object with
 * one resource of every data type; 9001 exists in two versions to exercise versioned lookups.
 */
import { CodecError } from '../../src/common/errors';
import type { ObjectModel, ObjectModelLookup, Operations, ResourceModel } from '../../src/lwm2m/model/types';
import { instance, multi, single, type ObjectInstance } from '../../src/lwm2m/node';
import type { ResourceType } from '../../src/lwm2m/value';

function res(
  id: number,
  name: string,
  type: ResourceType,
  multiple = false,
  operations: Operations = 'R',
): ResourceModel {
  return { id, name, type, multiple, operations, mandatory: false };
}

function obj(id: number, name: string, multiple: boolean, resources: ResourceModel[], version = '1.0'): ObjectModel {
  return {
    id,
    name,
    version,
    lwm2mVersion: '1.1',
    multiple,
    mandatory: false,
    resources: new Map(resources.map((r) => [r.id, r])),
  };
}

/** Resource ids of the synthetic all-types object 9000. */
export const T = {
  OBJECT: 9000,
  STRING: 0,
  INTEGER: 1,
  UNSIGNED: 2,
  FLOAT: 3,
  BOOLEAN: 4,
  OPAQUE: 5,
  TIME: 6,
  OBJLNK: 7,
  CORELNK: 8,
  EXEC: 9,
  MULTI_INTEGER: 10,
  MULTI_STRING: 11,
  MULTI_FLOAT: 12,
  WIDE_ID_STRING: 300,
} as const;

const OBJECTS: ObjectModel[] = [
  obj(1, 'LwM2M Server', true, [
    res(0, 'Short Server ID', 'INTEGER'),
    res(1, 'Lifetime', 'INTEGER', false, 'RW'),
    res(2, 'Default Minimum Period', 'INTEGER', false, 'RW'),
    res(3, 'Default Maximum Period', 'INTEGER', false, 'RW'),
    res(5, 'Disable Timeout', 'INTEGER', false, 'RW'),
    res(6, 'Notification Storing When Disabled or Offline', 'BOOLEAN', false, 'RW'),
    res(7, 'Binding', 'STRING', false, 'RW'),
    res(8, 'Registration Update Trigger', 'NONE', false, 'E'),
  ]),
  obj(2, 'LwM2M Access Control', true, [
    res(0, 'Object ID', 'INTEGER'),
    res(1, 'Object Instance ID', 'INTEGER'),
    res(2, 'ACL', 'INTEGER', true, 'RW'),
    res(3, 'Access Control Owner', 'INTEGER', false, 'RW'),
  ]),
  obj(3, 'Device', false, [
    res(0, 'Manufacturer', 'STRING'),
    res(1, 'Model Number', 'STRING'),
    res(2, 'Serial Number', 'STRING'),
    res(3, 'Firmware Version', 'STRING'),
    res(4, 'Reboot', 'NONE', false, 'E'),
    res(5, 'Factory Reset', 'NONE', false, 'E'),
    res(6, 'Available Power Sources', 'INTEGER', true),
    res(7, 'Power Source Voltage', 'INTEGER', true),
    res(8, 'Power Source Current', 'INTEGER', true),
    res(9, 'Battery Level', 'INTEGER'),
    res(10, 'Memory Free', 'INTEGER'),
    res(11, 'Error Code', 'INTEGER', true),
    res(12, 'Reset Error Code', 'NONE', false, 'E'),
    res(13, 'Current Time', 'TIME', false, 'RW'),
    res(14, 'UTC Offset', 'STRING', false, 'RW'),
    res(15, 'Timezone', 'STRING', false, 'RW'),
    res(16, 'Supported Binding and Modes', 'STRING'),
    res(17, 'Device Type', 'STRING'),
    res(18, 'Hardware Version', 'STRING'),
    res(19, 'Software Version', 'STRING'),
    res(20, 'Battery Status', 'INTEGER'),
    res(21, 'Memory Total', 'INTEGER'),
  ]),
  obj(3303, 'Temperature', true, [
    res(5700, 'Sensor Value', 'FLOAT'),
    res(5701, 'Sensor Units', 'STRING'),
    res(5601, 'Min Measured Value', 'FLOAT'),
    res(5602, 'Max Measured Value', 'FLOAT'),
    res(5605, 'Reset Min and Max Measured Values', 'NONE', false, 'E'),
  ]),
  obj(65, 'Objlnk example 65', true, [
    res(0, 'res0', 'OBJLNK', true),
    res(1, 'res1', 'STRING'),
    res(2, 'res2', 'INTEGER'),
  ]),
  obj(66, 'Objlnk example 66', true, [res(0, 'res0', 'STRING'), res(1, 'res1', 'STRING'), res(2, 'res2', 'OBJLNK')]),
  obj(T.OBJECT, 'All types', true, [
    res(T.STRING, 'string', 'STRING', false, 'RW'),
    res(T.INTEGER, 'integer', 'INTEGER', false, 'RW'),
    res(T.UNSIGNED, 'unsigned', 'UNSIGNED_INTEGER', false, 'RW'),
    res(T.FLOAT, 'float', 'FLOAT', false, 'RW'),
    res(T.BOOLEAN, 'boolean', 'BOOLEAN', false, 'RW'),
    res(T.OPAQUE, 'opaque', 'OPAQUE', false, 'RW'),
    res(T.TIME, 'time', 'TIME', false, 'RW'),
    res(T.OBJLNK, 'objlnk', 'OBJLNK', false, 'RW'),
    res(T.CORELNK, 'corelnk', 'CORELNK', false, 'RW'),
    res(T.EXEC, 'exec', 'NONE', false, 'E'),
    res(T.MULTI_INTEGER, 'multi integer', 'INTEGER', true, 'RW'),
    res(T.MULTI_STRING, 'multi string', 'STRING', true, 'RW'),
    res(T.MULTI_FLOAT, 'multi float', 'FLOAT', true, 'RW'),
    res(T.WIDE_ID_STRING, 'wide id string', 'STRING', false, 'RW'),
  ]),
  obj(9001, 'Versioned', false, [res(0, 'value', 'STRING')], '1.0'),
  obj(9001, 'Versioned', false, [res(0, 'value', 'INTEGER')], '2.0'),
];

const BY_ID = new Map<number, ObjectModel[]>();
for (const o of OBJECTS) BY_ID.set(o.id, [...(BY_ID.get(o.id) ?? []), o]);

/** Exact version match, else the newest version (enough for tests; the real registry is smarter). */
export const testModel: ObjectModelLookup = {
  getObject(objectId: number, version?: string): ObjectModel | undefined {
    const candidates = BY_ID.get(objectId);
    if (!candidates) return undefined;
    return candidates.find((o) => o.version === version) ?? candidates[candidates.length - 1];
  },
  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined {
    return this.getObject(objectId, version)?.resources.get(resourceId);
  },
};

/**
 * The Device object instance of the Read /3/0 examples in LwM2M-Core 1.1.1 §7.4.3.2 (TLV), §7.4.5
 * (SenML JSON) and §7.4.6 (SenML CBOR).
 */
export function deviceInstanceExample(): ObjectInstance {
  return instance(0, [
    single(0, 'STRING', 'Open Mobile Alliance'),
    single(1, 'STRING', 'Lightweight M2M Client'),
    single(2, 'STRING', '345000123'),
    single(3, 'STRING', '1.0'),
    multi(6, 'INTEGER', [
      [0, 1],
      [1, 5],
    ]),
    multi(7, 'INTEGER', [
      [0, 3800],
      [1, 5000],
    ]),
    multi(8, 'INTEGER', [
      [0, 125],
      [1, 900],
    ]),
    single(9, 'INTEGER', 100),
    single(10, 'INTEGER', 15),
    multi(11, 'INTEGER', [[0, 0]]),
    single(13, 'TIME', new Date(1367491215 * 1000)),
    single(14, 'STRING', '+02:00'),
    single(16, 'STRING', 'U'),
  ]);
}

/** Runs `fn`, expects it to throw a CodecError (naming `path`, when given) and returns it. */
export function codecError(fn: () => unknown, path?: string): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    if (path !== undefined) expect((e as CodecError).path).toBe(path);
    return e as CodecError;
  }
  throw new Error('expected a CodecError');
}
