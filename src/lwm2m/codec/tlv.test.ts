import { BridgeError } from '../../common/errors';
import { parsePath } from '../path';
import {
  instance,
  multi,
  object,
  resourceInstance,
  single,
  type LwM2mNode,
  type LwM2mObject,
  type ObjectInstance,
} from '../node';
import { ContentFormat, type CodecContext } from './types';
import { createTlvCodec, tlvCodec } from './tlv';
import { codecError, deviceInstanceExample, testModel, T } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const dec = (payload: Buffer, path: string): LwM2mNode => tlvCodec.decode(payload, parsePath(path), ctx);
const enc = (node: LwM2mNode, path: string): Buffer => tlvCodec.encode(node, parsePath(path), ctx);

// LwM2M-Core 1.0 §6.4.3.2 / 1.1 §7.4.3.2, "Single Object Instance Request Example": Read /3/0,
// the resources of the Device object instance as bare Resource TLVs.
const DEVICE_RESOURCES = hex(`
  C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65
  C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74
  C8 02 09 33 34 35 30 30 30 31 32 33
  C3 03 31 2E 30
  86 06 41 00 01 41 01 05
  88 07 08 42 00 0E D8 42 01 13 88
  87 08 41 00 7D 42 01 03 84
  C1 09 64
  C1 0A 0F
  83 0B 41 00 00
  C4 0D 51 82 42 8F
  C6 0E 2B 30 32 3A 30 30
  C1 10 55`);
// The same content wrapped in one Object Instance TLV (id 0, 0x79 = 121 bytes), the form used for an object path.
const DEVICE_WRAPPED = Buffer.concat([hex('08 00 79'), DEVICE_RESOURCES]);

// LwM2M-Core 1.0 §6.4.3.2 / 1.1 §7.4.3.2, "Multiple Object Instance Request Examples": Read /2 (Access Control).
const ACL = hex(`
  08 00 0E  C1 00 01  C1 01 00  83 02 41 7F 07  C1 03 7F
  08 02 12  C1 00 03  C1 01 00  87 02 41 7F 07 61 01 36 01  C1 03 7F`);
// Same section: Read /1 (LwM2M Server, one instance): short server id 1, lifetime 86400, storing true, binding "U".
const SERVER = hex('08 00 0F  C1 00 01  C4 01 00 01 51 80  C1 06 01  C1 07 55');
// LwM2M-Core 1.0 §6.4.3.3 / 1.1 §7.4.3.3 (Objlnk examples): Read /65/0 and Read /66.
const OBJ65 = hex(
  '88 00 0C 44 00 00 42 00 00 44 01 00 42 00 01  C8 01 0D 38 36 31 33 38 30 30 37 35 35 35 30 30  C4 02 12 34 56 78',
);
const OBJ66 = hex(`
  08 00 26 C8 00 0B 6D 79 53 65 72 76 69 63 65 20 31 C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 34 C4 02 00 43 00 00
  08 01 26 C8 00 0B 6D 79 53 65 72 76 69 63 65 20 32 C8 01 0F 49 6E 74 65 72 6E 65 74 2E 31 35 2E 32 33 35 C4 02 FF FF FF FF`);

const DEVICE: ObjectInstance = deviceInstanceExample();

describe('TLV: spec examples (golden bytes)', () => {
  it('decodes the Device instance as bare resources (/3/0) and encodes it back byte for byte', () => {
    expect(dec(DEVICE_RESOURCES, '/3/0')).toEqual(DEVICE);
    expect(enc(DEVICE, '/3/0')).toEqual(DEVICE_RESOURCES);
  });

  it('accepts the Device instance wrapped in its Object Instance TLV, for the instance and the object path', () => {
    expect(DEVICE_WRAPPED[2]).toBe(DEVICE_RESOURCES.length);
    expect(dec(DEVICE_WRAPPED, '/3/0')).toEqual(DEVICE);
    expect(dec(DEVICE_WRAPPED, '/3')).toEqual(object(3, [DEVICE]));
    expect(enc(object(3, [DEVICE]), '/3')).toEqual(DEVICE_WRAPPED);
  });

  it('encodes an instance for an object path (Create) wrapped in its Object Instance TLV', () => {
    expect(enc(DEVICE, '/3')).toEqual(DEVICE_WRAPPED);
  });

  it('round-trips the two-instance Access Control object, including a 16-bit resource instance id', () => {
    const acl = dec(ACL, '/2') as LwM2mObject;
    expect(acl).toEqual(
      object(2, [
        instance(0, [
          single(0, 'INTEGER', 1),
          single(1, 'INTEGER', 0),
          multi(2, 'INTEGER', [[127, 7]]),
          single(3, 'INTEGER', 127),
        ]),
        instance(2, [
          single(0, 'INTEGER', 3),
          single(1, 'INTEGER', 0),
          multi(2, 'INTEGER', [
            [127, 7],
            [310, 1],
          ]),
          single(3, 'INTEGER', 127),
        ]),
      ]),
    );
    expect(enc(acl, '/2')).toEqual(ACL);
  });

  it('round-trips the Server object example (4-byte integer, boolean)', () => {
    const server = dec(SERVER, '/1');
    expect(server).toEqual(
      object(1, [
        instance(0, [
          single(0, 'INTEGER', 1),
          single(1, 'INTEGER', 86400),
          single(6, 'BOOLEAN', true),
          single(7, 'STRING', 'U'),
        ]),
      ]),
    );
    expect(enc(server, '/1')).toEqual(SERVER);
  });

  it('round-trips the Objlnk examples (multiple Objlnk resource; the null link 65535:65535)', () => {
    const o65 = dec(OBJ65, '/65/0');
    expect(o65).toEqual(
      instance(0, [
        multi(0, 'OBJLNK', [
          [0, { objectId: 66, instanceId: 0 }],
          [1, { objectId: 66, instanceId: 1 }],
        ]),
        single(1, 'STRING', '8613800755500'),
        single(2, 'INTEGER', 0x12345678),
      ]),
    );
    expect(enc(o65, '/65/0')).toEqual(OBJ65);
    const o66 = dec(OBJ66, '/66') as LwM2mObject;
    expect(o66.instances.get(0)?.resources.get(2)).toEqual(single(2, 'OBJLNK', { objectId: 67, instanceId: 0 }));
    expect(o66.instances.get(1)?.resources.get(2)).toEqual(single(2, 'OBJLNK', { objectId: 65535, instanceId: 65535 }));
    expect(enc(o66, '/66')).toEqual(OBJ66);
  });

  it('decodes a single resource, a multiple resource and a resource instance taken from the Device example', () => {
    expect(dec(hex('C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65'), '/3/0/0')).toEqual(
      single(0, 'STRING', 'Open Mobile Alliance'),
    );
    expect(dec(hex('86 06 41 00 01 41 01 05'), '/3/0/6')).toEqual(
      multi(6, 'INTEGER', [
        [0, 1],
        [1, 5],
      ]),
    );
    expect(
      enc(
        multi(6, 'INTEGER', [
          [0, 1],
          [1, 5],
        ]),
        '/3/0/6',
      ),
    ).toEqual(hex('86 06 41 00 01 41 01 05'));
    // Bare Resource Instance TLVs for a multiple resource path are accepted too.
    expect(dec(hex('41 00 01 41 01 05'), '/3/0/6')).toEqual(
      multi(6, 'INTEGER', [
        [0, 1],
        [1, 5],
      ]),
    );
    expect(dec(hex('41 01 05'), '/3/0/6/1')).toEqual(resourceInstance(1, 'INTEGER', 5));
    expect(dec(hex('83 06 41 01 05'), '/3/0/6/1')).toEqual(resourceInstance(1, 'INTEGER', 5));
    expect(enc(resourceInstance(1, 'INTEGER', 5), '/3/0/6/1')).toEqual(hex('41 01 05'));
    expect(dec(hex('08 00 03 C1 09 64'), '/3/0/9')).toEqual(single(9, 'INTEGER', 100));
  });

  it('registers under both content-format numbers', () => {
    expect(createTlvCodec(ContentFormat.TLV).format).toBe(11542);
    expect(createTlvCodec(ContentFormat.TLV_LEGACY).format).toBe(1542);
    expect(createTlvCodec(ContentFormat.TLV_LEGACY).decode(SERVER, parsePath('/1'), ctx)).toEqual(dec(SERVER, '/1'));
  });
});

describe('TLV: malformed payloads → CodecError naming the path', () => {
  it.each([
    ['a lone type byte', 'C8', '/3/0'],
    ['a missing length byte', 'C8 00', '/3/0'],
    ['a missing 16-bit id byte', 'E1 01', '/3/0'],
    ['a length beyond the buffer', 'C8 00 14 4F 70', '/3/0'],
    ['a short length beyond the buffer', 'C4 09 00', '/3/0'],
    ['an inner length beyond its container', '08 00 03 C8 00 05', '/3'],
    ['an object instance nested in an object instance', '08 00 03 08 01 00', '/3'],
    ['a resource value nested in a multiple resource', '83 06 C1 00 01', '/3/0/6'],
    ['a resource instance at instance level', '41 00 01', '/3/0'],
    ['object instance and resource TLVs mixed', '08 00 00 C1 09 64', '/3'],
    ['two resources with the same id', 'C1 09 64 C1 09 63', '/3/0'],
    ['two instances with the same id', '08 01 00 08 01 00', '/2'],
    ['two resource instances with the same id', '86 06 41 00 01 41 00 05', '/3/0/6'],
    ['a wrapping object instance with another id', '08 01 03 C1 09 64', '/3/0'],
    ['another resource than the path', 'C1 0A 0F', '/3/0/9'],
    ['a multiple TLV for a single-instance resource', '83 09 41 00 01', '/3/0/9'],
    ['a single TLV for a multiple-instance resource', 'C1 06 01', '/3/0/6'],
    ['an empty payload for a single resource', '', '/3/0/9'],
    ['the reserved id 65535', 'E1 FF FF 01', '/3/0'],
    ['an integer of 3 bytes', 'C3 09 00 00 01', '/3/0/9'],
    ['another resource instance than the path', '41 02 05', '/3/0/6/1'],
    ['a resource instance path on a single resource', '41 00 05', '/3/0/9/0'],
  ])('%s', (_label, bytes, path) => {
    const err = codecError(() => dec(hex(bytes), path));
    expect(err.path).toMatch(new RegExp(`^${path}`));
    expect(err.code).toBe('LWM2M_CODEC');
  });

  it('rejects the root path', () => {
    codecError(() => tlvCodec.decode(DEVICE_RESOURCES, {}, ctx));
    expect(tlvCodec.supports({})).toBe(false);
  });

  it('decodes empty payloads to empty containers where the path allows', () => {
    expect(dec(Buffer.alloc(0), '/2')).toEqual(object(2, []));
    expect(dec(Buffer.alloc(0), '/2/0')).toEqual(instance(0, []));
    expect(dec(Buffer.alloc(0), '/3/0/6')).toEqual(multi(6, 'INTEGER', []));
  });

  it('never throws anything but a BridgeError on truncated or corrupted input', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const samples: Array<[Buffer, string]> = [];
    for (const [golden, p] of [
      [DEVICE_WRAPPED, '/3'],
      [ACL, '/2'],
      [OBJ65, '/65/0'],
      [DEVICE_RESOURCES, '/3/0'],
    ] as const) {
      for (let i = 0; i < golden.length; i++) samples.push([golden.subarray(0, i), p]);
      for (let i = 0; i < 300; i++) {
        const copy = Buffer.from(golden);
        copy[rand(copy.length)] = rand(256);
        samples.push([copy, p]);
      }
    }
    for (const [payload, p] of samples) {
      try {
        dec(payload, p);
      } catch (e) {
        expect(e).toBeInstanceOf(BridgeError);
      }
    }
  });
});

describe('TLV: encoding errors', () => {
  it('rejects values that do not fit the model type, mismatched nodes and executables', () => {
    codecError(() => enc(single(9, 'STRING', 'x'), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(9, 'INTEGER', 1.5), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(9, 'INTEGER', 2n ** 63n), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(10, 'INTEGER', 1), '/3/0/9'), '/3/0/9');
    codecError(() => enc(instance(0, []), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(6, 'INTEGER', 1), '/3/0/6'), '/3/0/6');
    codecError(() => enc(multi(9, 'INTEGER', [[0, 1]]), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(4, 'NONE', ''), '/3/0/4'), '/3/0/4');
    codecError(() => enc(single(T.OBJLNK, 'OBJLNK', { objectId: 70000, instanceId: 0 }), `/${T.OBJECT}/0/${T.OBJLNK}`));
  });

  it('encodes by the model type when the node says otherwise but the value fits', () => {
    expect(enc(single(9, 'FLOAT', 100), '/3/0/9')).toEqual(hex('C1 09 64'));
  });

  it('supports every level but the root, with a node matching the path', () => {
    expect(tlvCodec.supports(parsePath('/3'), DEVICE)).toBe(true);
    expect(tlvCodec.supports(parsePath('/3/0'), DEVICE)).toBe(true);
    expect(tlvCodec.supports(parsePath('/3/1'), DEVICE)).toBe(false);
    expect(tlvCodec.supports(parsePath('/3/0/9'), DEVICE)).toBe(false);
    expect(tlvCodec.supports(parsePath('/3/0/6/0'), resourceInstance(0, 'INTEGER', 1))).toBe(true);
  });
});
