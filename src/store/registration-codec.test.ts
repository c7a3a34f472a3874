import type { Registration } from '../server/registration/registration';
import { StoreError } from '../common/store-errors';
import {
  CURRENT_FORMAT,
  applyChanges,
  decodeRegistration,
  encodeChanges,
  encodeRegistration,
  fieldsFromFlat,
} from './registration-codec';

const full: Registration = {
  id: 'Ab_-12xy',
  endpoint: 'urn:imei:490154203237518',
  address: '2001:db8::1',
  port: 56830,
  lifetime: 86400,
  lwm2mVersion: '1.2',
  binding: 'UQS',
  queueMode: true,
  smsNumber: '+4930123456',
  rootPath: '/lwm2m',
  supportedContentFormats: [11543, 112, 110],
  objects: [
    { objectId: 1, version: '1.2', instances: [0] },
    { objectId: 3, instances: [0] },
    { objectId: 3303, version: '1.1', instances: [0, 1, 7] },
    { objectId: 5, instances: [] },
  ],
  objectLinks:
    '</lwm2m>;rt="oma.lwm2m";ct="11543 112 110",</lwm2m/1>;ver=1.2,</lwm2m/1/0>,</lwm2m/3/0>,</lwm2m/3303>;ver=1.1',
  registeredAt: 1_700_000_000_123,
  lastUpdate: 1_700_000_100_456,
  expiresAt: 1_700_086_500_456,
};

const minimal: Registration = {
  id: 'r',
  endpoint: 'e',
  address: '192.0.2.1',
  port: 5683,
  lifetime: 30,
  lwm2mVersion: '1.0',
  binding: 'U',
  queueMode: false,
  rootPath: '/',
  objects: [],
  objectLinks: '',
  registeredAt: 1,
  lastUpdate: 1,
  expiresAt: 30_001,
};

const roundTrip = (reg: Registration): Registration =>
  decodeRegistration(fieldsFromFlat(encodeRegistration(reg))).registration;

describe('registration codec', () => {
  it('round-trips every field', () => {
    expect(roundTrip(full)).toEqual(full);
  });

  it('round-trips a registration without the optional fields, and keeps them absent', () => {
    const back = roundTrip(minimal);
    expect(back).toEqual(minimal);
    expect('smsNumber' in back || 'supportedContentFormats' in back).toBe(false);
    expect(roundTrip({ ...minimal, supportedContentFormats: [] }).supportedContentFormats).toEqual([]);
  });

  it('writes its format version and refuses a newer one', () => {
    const flat = encodeRegistration(full);
    expect(flat.slice(0, 2)).toEqual(['v', String(CURRENT_FORMAT)]);
    const newer = fieldsFromFlat(flat);
    newer.set('v', String(CURRENT_FORMAT + 1));
    expect(() => decodeRegistration(newer)).toThrow(/newer than this bridge reads/);
    newer.delete('v');
    expect(() => decodeRegistration(newer)).toThrow(StoreError);
  });

  it('reads the store metadata beside the registration', () => {
    const f = fieldsFromFlat([
      ...encodeRegistration(full),
      'wv',
      '1700000000000123',
      'dl',
      '123',
      'in',
      'bridge-2',
      'sn',
      '99',
    ]);
    expect(decodeRegistration(f).meta).toEqual({
      version: 1_700_000_000_000_123,
      deadline: 123,
      instance: 'bridge-2',
      seen: 99,
    });
  });

  it('names the field a corrupt record lacks', () => {
    const f = fieldsFromFlat(encodeRegistration(full));
    f.delete('p');
    expect(() => decodeRegistration(f)).toThrow(/field p/);
    const g = fieldsFromFlat(encodeRegistration(full));
    g.set('ob', '[[3,"x"]]');
    expect(() => decodeRegistration(g)).toThrow(/field ob/);
  });

  it('encodes only the changed attributes of an Update and applies them as the script does', () => {
    expect(encodeChanges({ address: '192.0.2.9', port: 1, lifetime: undefined })).toEqual(['a', '192.0.2.9', 'p', '1']);
    const after = applyChanges(full, { lifetime: 60, smsNumber: undefined }, 2_000_000_000_000);
    expect(after).toEqual({ ...full, lifetime: 60, lastUpdate: 2_000_000_000_000, expiresAt: 2_000_000_060_000 });
    expect(applyChanges(full, {}, 5).expiresAt).toBe(5 + 86400 * 1000);
  });
});
