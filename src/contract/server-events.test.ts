import type { Observation } from '../server/observation/observation-store';
import type { Registration } from '../server/registration/registration';
import { eventRecordSchema } from './event-records';
import { eventRecordFor } from './server-events';

const reg = (over: Partial<Registration> = {}): Registration => ({
  id: 'r1',
  endpoint: 'dev',
  address: '203.0.113.7',
  port: 5683,
  lifetime: 300,
  lwm2mVersion: '1.1',
  binding: 'U',
  queueMode: false,
  smsNumber: '+123',
  rootPath: '/',
  objects: [
    { objectId: 3, version: '1.1', instances: [0] },
    { objectId: 1, instances: [0] },
  ],
  objectLinks: '</3/0>,</1/0>',
  registeredAt: 1000,
  lastUpdate: 2000,
  expiresAt: 302000,
  ...over,
});

const obs: Observation = {
  token: 'ab',
  registrationId: 'r1',
  endpoint: 'dev',
  kind: 'single',
  paths: ['/3303/0/5700'],
  createdAt: 1,
};

describe('eventRecordFor', () => {
  it('publishes registration events with a public summary of the registration', () => {
    const e = eventRecordFor({ type: 'registered', registration: reg(), replaced: reg({ id: 'r0' }) }, 5000);
    expect(e).toEqual({
      endpoint: 'dev',
      ts: 5000,
      type: 'registered',
      registration: {
        id: 'r1',
        lwm2mVersion: '1.1',
        binding: 'U',
        queueMode: false,
        lifetime: 300,
        address: '203.0.113.7',
        port: 5683,
        rootPath: '/',
        objects: [
          { objectId: 3, version: '1.1', instances: [0] },
          { objectId: 1, instances: [0] },
        ],
        registeredAt: 1000,
        lastUpdate: 2000,
        expiresAt: 302000,
      },
      detail: { previousRegistrationId: 'r0' },
    });
    expect(eventRecordSchema.parse(e)).toEqual(e);
    expect(JSON.stringify(e)).not.toContain('+123'); // the SMS number stays inside
  });

  it('maps updated, deregistered and expired', () => {
    const after = reg({ port: 6000, supportedContentFormats: [110] });
    expect(eventRecordFor({ type: 'updated', before: reg(), after, addressChanged: true }, 1)).toMatchObject({
      type: 'updated',
      registration: { port: 6000, supportedContentFormats: [110] },
      detail: { addressChanged: true },
    });
    expect(eventRecordFor({ type: 'deregistered', registration: reg() }, 1)).toMatchObject({
      type: 'deregistered',
      endpoint: 'dev',
    });
    expect(eventRecordFor({ type: 'expired', registration: reg() }, 1)).toMatchObject({
      type: 'expired',
      registration: { id: 'r1' },
    });
  });

  it('announces observations the device dropped, not those the bridge ended', () => {
    expect(eventRecordFor({ type: 'observation-ended', observation: obs, reason: 'reset' }, 7)).toEqual({
      endpoint: 'dev',
      ts: 7,
      type: 'observe-lost',
      detail: { reason: 'reset', paths: ['/3303/0/5700'] },
    });
    expect(
      eventRecordFor(
        { type: 'observation-ended', observation: obs, reason: 'error-response', detail: 'notification code 4.4' },
        7,
      ),
    ).toMatchObject({
      type: 'observe-lost',
      detail: { reason: 'error-response', message: 'notification code 4.4' },
    });
    for (const reason of ['cancelled', 'deregistered', 'replaced', 'expired'] as const) {
      expect(eventRecordFor({ type: 'observation-ended', observation: obs, reason }, 7)).toBeUndefined();
    }
  });

  it('leaves value-carrying and rejection events to other topics', () => {
    expect(eventRecordFor({ type: 'send', registration: reg(), entries: [] }, 1)).toBeUndefined();
    expect(
      eventRecordFor(
        { type: 'rejected', peer: { address: '::1', port: 1 }, operation: '/rd', code: 128, reason: 'x' },
        1,
      ),
    ).toBeUndefined();
  });
});
