/**
 * Test fixture: a small static object model for the SenML and LwM2M CBOR codec tests
 * (Device /3 and Server /1 as in LwM2M-Core Appendix E, Temperature /3303, the Objlnk example
 * object /65 of LwM2M-Core Appendix C, and a test object /33000 with one resource per type).
 */
import { CodecError } from '../../src/common/errors';
import type { ObjectModel, ObjectModelLookup, Operations, ResourceModel } from '../../src/lwm2m/model/types';
import { instance, multi, single, type ObjectInstance } from '../../src/lwm2m/node';
import type { ResourceType } from '../../src/lwm2m/value';

type Def = [id: number, name: string, type: ResourceType, multiple?: boolean];

function obj(id: number, name: string, defs: Def[]): ObjectModel {
  const resources = new Map<number, ResourceModel>();
  for (const [rid, rname, type, multiple] of defs) {
    const operations: Operations = type === 'NONE' ? 'E' : 'RW';
    resources.set(rid, { id: rid, name: rname, operations, multiple: multiple === true, mandatory: false, type });
  }
  return { id, name, version: '1.0', lwm2mVersion: '1.1', multiple: true, mandatory: false, resources };
}

export const TEST_OBJECT_ID = 33000;

const objects = new Map<number, ObjectModel>(
  [
    obj(1, 'LwM2M Server', [
      [0, 'Short Server ID', 'INTEGER'],
      [1, 'Lifetime', 'INTEGER'],
      [2, 'Default Minimum Period', 'INTEGER'],
      [3, 'Default Maximum Period', 'INTEGER'],
      [5, 'Disable Timeout', 'INTEGER'],
      [6, 'Notification Storing', 'BOOLEAN'],
      [7, 'Binding', 'STRING'],
    ]),
    obj(3, 'Device', [
      [0, 'Manufacturer', 'STRING'],
      [1, 'Model Number', 'STRING'],
      [2, 'Serial Number', 'STRING'],
      [3, 'Firmware Version', 'STRING'],
      [4, 'Reboot', 'NONE'],
      [6, 'Available Power Sources', 'INTEGER', true],
      [7, 'Power Source Voltage', 'INTEGER', true],
      [8, 'Power Source Current', 'INTEGER', true],
      [9, 'Battery Level', 'INTEGER'],
      [10, 'Memory Free', 'INTEGER'],
      [11, 'Error Code', 'INTEGER', true],
      [13, 'Current Time', 'TIME'],
      [14, 'UTC Offset', 'STRING'],
      [15, 'Timezone', 'STRING'],
      [16, 'Supported Binding and Modes', 'STRING'],
    ]),
    obj(65, 'Objlnk example', [
      [0, 'Object links', 'OBJLNK', true],
      [1, 'Text', 'STRING'],
      [2, 'Number', 'INTEGER'],
    ]),
    obj(3303, 'Temperature', [
      [5700, 'Sensor Value', 'FLOAT'],
      [5701, 'Sensor Units', 'STRING'],
    ]),
    obj(TEST_OBJECT_ID, 'Codec test object', [
      [0, 'string', 'STRING'],
      [1, 'integer', 'INTEGER'],
      [2, 'unsigned', 'UNSIGNED_INTEGER'],
      [3, 'float', 'FLOAT'],
      [4, 'boolean', 'BOOLEAN'],
      [5, 'opaque', 'OPAQUE'],
      [6, 'time', 'TIME'],
      [7, 'objlnk', 'OBJLNK'],
      [8, 'corelnk', 'CORELNK'],
      [9, 'integers', 'INTEGER', true],
      [10, 'execute', 'NONE'],
      [11, 'floats', 'FLOAT', true],
    ]),
  ].map((o) => [o.id, o]),
);

export const testModel: ObjectModelLookup = {
  getObject: (objectId) => objects.get(objectId),
  getResource: (objectId, resourceId) => objects.get(objectId)?.resources.get(resourceId),
};

/**
 * The Device object instance of the Read /3/0 examples in LwM2M-Core 1.1.1 §7.4.5 (SenML JSON)
 * and §7.4.6 (SenML CBOR).
 */
export function deviceInstanceExample(): ObjectInstance {
  return instance(0, [
    single(0, 'STRING', 'Open Mobile Alliance'),
    single(1, 'STRING', 'Lightweight M2M Client'),
    single(2, 'STRING', '345000123'),
    single(3, 'STRING', '1.0'),
    multi(6, 'INTEGER', [[0, 1], [1, 5]]),
    multi(7, 'INTEGER', [[0, 3800], [1, 5000]]),
    multi(8, 'INTEGER', [[0, 125], [1, 900]]),
    single(9, 'INTEGER', 100),
    single(10, 'INTEGER', 15),
    multi(11, 'INTEGER', [[0, 0]]),
    single(13, 'TIME', new Date(1367491215 * 1000)),
    single(14, 'STRING', '+02:00'),
    single(16, 'STRING', 'U'),
  ]);
}

/** Runs `fn`, expects it to throw a CodecError and returns it (tests only). */
export function codecError(fn: () => unknown): CodecError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CodecError);
  return error as CodecError;
}
