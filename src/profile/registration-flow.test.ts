import { instance, multi, single, type LwM2mNode } from '../lwm2m/node';
import type { ProfileEvent } from './profile-events';
import { ProfileRegistry } from './profile-registry';
import { MemoryProvisioningStore, ProfileAssigner } from './provisioning';
import { RegistrationFlow } from './registration-flow';
import { FakeDevices, RecordingPublisher } from '../../test/support/profile-doubles';
import { registration } from '../../test/support/profile-fixtures';
import { ReportMapper } from './report-mapper';

const VALUES = new Map<string, LwM2mNode>([
  ['/3/0/0', single(0, 'STRING', 'ACME')],
  ['/3/0/9', single(9, 'INTEGER', 87)],
  [
    '/3/0/6',
    multi(6, 'INTEGER', [
      [0, 1],
      [1, 5],
    ]),
  ],
  ['/3303/0/5700', single(5700, 'FLOAT', 21.5)],
  ['/3303/1/5700', single(5700, 'FLOAT', 30)],
  ['/3303/0', instance(0, [single(5700, 'FLOAT', 21.5), single(5701, 'STRING', 'Cel')])],
]);

const SENSOR = {
  name: 'sensor',
  version: 1,
  observeAttr: {
    keyName: { '/3/0/0': 'manufacturer', '/3/0/9': 'battery', '/3/0/6': 'power', '/3303/0/5700': 'temperature' },
    attribute: ['/3/0/0'],
    telemetry: ['/3/0/9', '/3/0/6', '/3303/0/5700'],
    observe: ['/3/0/9', '/3303/0/5700'],
    attributeLwm2m: { '/3303/0/5700': { pmin: 1, pmax: 10 } },
    observeStrategy: 'COMPOSITE_BY_OBJECT',
  },
};

let devices: FakeDevices;
let publisher: RecordingPublisher;
let registry: ProfileRegistry;
let store: MemoryProvisioningStore;
let assigner: ProfileAssigner;
let flow: RegistrationFlow;
let failures: string[];
let events: ProfileEvent[];

beforeEach(() => {
  devices = new FakeDevices(VALUES);
  publisher = new RecordingPublisher();
  registry = new ProfileRegistry();
  store = new MemoryProvisioningStore();
  assigner = new ProfileAssigner({ store, rules: [{ pattern: 'dev-*', profile: 'sensor' }] });
  failures = [];
  flow = new RegistrationFlow({
    server: devices,
    registry,
    assigner,
    publisher,
    onFailure: (e, ctx) => failures.push(`${ctx}: ${String(e)}`),
    now: () => 1000,
  });
  events = [];
  flow.events.on((_ep, _p, e) => events.push(e));
  flow.start();
});
afterEach(() => flow.stop());

describe('RegistrationFlow', () => {
  it('reads, publishes, writes attributes and observes on registration', async () => {
    registry.putDocument(SENSOR, 'test');
    devices.register(registration());
    await flow.idle();
    expect(devices.calls).toEqual([
      'read-composite /3/0/0 /3/0/9 /3/0/6 /3303/0/5700',
      'write-attributes /3303/0/5700 {"pmin":1,"pmax":10}',
      'observe-composite /3/0/9',
      'observe-composite /3303/0/5700',
    ]);
    const read = publisher.values.filter((v) => v.source.op === 'read');
    expect(read).toEqual([
      {
        topic: 'telemetry',
        endpoint: 'dev-1',
        profile: 'sensor',
        ts: 1000,
        values: { battery: 87, power: { '0': 1, '1': 5 }, temperature: 21.5 },
        source: { op: 'read', paths: ['/3/0/0', '/3/0/9', '/3/0/6', '/3303/0/5700'] },
        types: { battery: 'INTEGER', power: 'INTEGER', temperature: 'FLOAT' },
      },
      {
        topic: 'attributes',
        endpoint: 'dev-1',
        profile: 'sensor',
        ts: 1000,
        values: { manufacturer: 'ACME' },
        source: { op: 'read', paths: ['/3/0/0', '/3/0/9', '/3/0/6', '/3303/0/5700'] },
        types: { manufacturer: 'STRING' },
      },
    ]);
    expect(publisher.values.filter((v) => v.source.op === 'observe').map((v) => v.values)).toEqual([
      { battery: 87 },
      { temperature: 21.5 },
    ]);
    expect(events.at(-1)).toMatchObject({
      type: 'profile-applied',
      reason: 'registered',
      observationsEstablished: 2,
      attributesWritten: 1,
    });
    expect(failures).toEqual([]);
  });

  it('a device that lacks Read-Composite is read path by path, observed path by path, and says so once', async () => {
    devices.refuse.readComposite = 0x85; // 4.05 Method Not Allowed
    registry.putDocument(SENSOR, 'test');
    devices.register(registration());
    await flow.idle();
    expect(devices.calls).toEqual([
      'read-composite /3/0/0 /3/0/9 /3/0/6 /3303/0/5700',
      'learn Read-Composite',
      'read /3/0/0',
      'read /3/0/9',
      'read /3/0/6',
      'read /3303/0/5700',
      'write-attributes /3303/0/5700 {"pmin":1,"pmax":10}',
      'observe-single /3/0/9',
      'observe-single /3303/0/5700',
    ]);
    expect(events.filter((e) => e.type === 'capability-fallback')).toEqual([
      {
        type: 'capability-fallback',
        operation: 'Read-Composite',
        paths: ['/3/0/0', '/3/0/9', '/3/0/6', '/3303/0/5700'],
        result: 'METHOD_NOT_ALLOWED',
      },
    ]);
    expect(publisher.values.filter((v) => v.source.op === 'read').map((v) => v.values)).toEqual([
      { manufacturer: 'ACME' },
      { battery: 87 },
      { power: { '0': 1, '1': 5 } },
      { temperature: 21.5 },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'profile-applied', observationsEstablished: 2 });
    expect(failures).toEqual([]);
  });

  it('a device that refuses Observe-Composite gets one Observe per path, after one capability-fallback event', async () => {
    devices.refuse.observeComposite = 0xa1; // 5.01 Not Implemented
    registry.putDocument(SENSOR, 'test');
    devices.register(registration());
    await flow.idle();
    expect(devices.calls).toEqual([
      'read-composite /3/0/0 /3/0/9 /3/0/6 /3303/0/5700',
      'write-attributes /3303/0/5700 {"pmin":1,"pmax":10}',
      'observe-composite /3/0/9',
      'learn Observe-Composite',
      'observe-single /3/0/9',
      'observe-single /3303/0/5700',
    ]);
    expect(events.filter((e) => e.type === 'capability-fallback')).toEqual([
      { type: 'capability-fallback', operation: 'Observe-Composite', paths: ['/3/0/9'], result: 'NOT_IMPLEMENTED' },
    ]);
    expect(devices.observations.map((o) => [o.kind, o.paths.join(' ')])).toEqual([
      ['single', '/3/0/9'],
      ['single', '/3303/0/5700'],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'profile-applied', observationsEstablished: 2 });
  });

  it('remembers what the device lacks for its registration: a later setup goes path by path at once', async () => {
    devices.refuse.readComposite = 0x85;
    registry.putDocument(SENSOR, 'test');
    const before = registration({ objects: [{ objectId: 3, instances: [0] }], objectLinks: '</3/0>' });
    devices.register(before);
    await flow.idle();
    expect(devices.calls.slice(0, 2)).toEqual(['read-composite /3/0/0 /3/0/9 /3/0/6', 'learn Read-Composite']);
    devices.calls.length = 0;
    // Same registration, new object links (an Update): set up again, without any composite operation.
    const after = registration();
    devices.registrations.set('dev-1', after);
    devices.events.emit({ type: 'updated', before, after, addressChanged: false });
    await flow.idle();
    expect(devices.calls).toEqual([
      'read /3/0/0',
      'read /3/0/9',
      'read /3/0/6',
      'read /3303/0/5700',
      'write-attributes /3303/0/5700 {"pmin":1,"pmax":10}',
      'observe-single /3303/0/5700',
    ]);
    expect(events.filter((e) => e.type === 'capability-fallback')).toHaveLength(1);
    // A new registration (a new firmware, perhaps) is asked again.
    devices.calls.length = 0;
    devices.refuse.readComposite = undefined;
    devices.register(registration({ id: 'reg-2' }));
    await flow.idle();
    expect(devices.calls[0]).toBe('read-composite /3/0/0 /3/0/9 /3/0/6 /3303/0/5700');
  });

  it.each([
    ['readStrategy SINGLE', { readStrategy: 'SINGLE', observeAttr: { ...SENSOR.observeAttr } }],
    [
      'initAttrTelAsObsStrategy with observeStrategy SINGLE',
      { observeAttr: { ...SENSOR.observeAttr, observeStrategy: 'SINGLE', initAttrTelAsObsStrategy: true } },
    ],
  ])('a profile for devices known to lack composite operations (%s): one Read per path', async (_what, doc) => {
    registry.putDocument({ ...SENSOR, ...doc }, 'test');
    devices.register(registration());
    await flow.idle();
    expect(devices.calls.filter((c) => c.startsWith('read'))).toEqual([
      'read /3/0/0',
      'read /3/0/9',
      'read /3/0/6',
      'read /3303/0/5700',
    ]);
    expect(events.filter((e) => e.type === 'capability-fallback')).toEqual([]);
  });

  it('applies a profile change to a connected device without restart', async () => {
    registry.putDocument(SENSOR, 'test');
    devices.register(registration());
    await flow.idle();
    devices.calls.length = 0;
    const changed = {
      ...SENSOR,
      version: 2,
      observeAttr: {
        ...SENSOR.observeAttr,
        observe: ['/3303/0/5700', '/3303/1/5700'],
        attributeLwm2m: { '/3303/0/5700': { pmin: 5 } },
      },
    };
    registry.putDocument(changed, 'test');
    await flow.idle();
    expect(devices.calls).toEqual([
      'read-composite /3/0/0 /3/0/9 /3/0/6 /3303/0/5700',
      'write-attributes /3303/0/5700 {"pmin":5,"pmax":null}',
      'cancel-composite /3/0/9',
      'cancel-composite /3303/0/5700',
      'observe-composite /3303/0/5700 /3303/1/5700',
    ]);
    expect(devices.observations.map((o) => o.paths)).toEqual([['/3303/0/5700', '/3303/1/5700']]);
    expect(events.at(-1)).toMatchObject({
      type: 'profile-applied',
      reason: 'profile-changed',
      observationsCancelled: 2,
      observationsEstablished: 1,
    });
  });

  it('keeps what is unchanged, and sets up again on Update only when the object links changed', async () => {
    registry.putDocument(
      { ...SENSOR, observeAttr: { ...SENSOR.observeAttr, observe: ['/3303/1/5700'], attributeLwm2m: {} } },
      'test',
    );
    const before = registration({
      objects: [
        { objectId: 3, instances: [0] },
        { objectId: 3303, instances: [0] },
      ],
      objectLinks: '</3/0>,</3303/0>',
    });
    devices.register(before);
    await flow.idle();
    expect(events.find((e) => e.type === 'paths-skipped')).toEqual({
      type: 'paths-skipped',
      paths: [{ path: '/3303/1/5700', reason: 'instance-not-announced', uses: ['observe'] }],
    });
    const same = { ...before, lastUpdate: 5 };
    devices.events.emit({ type: 'updated', before, after: same, addressChanged: false });
    await flow.idle();
    devices.calls.length = 0;
    const after = registration();
    devices.registrations.set('dev-1', after);
    devices.events.emit({ type: 'updated', before, after, addressChanged: false });
    await flow.idle();
    expect(devices.calls).toEqual([
      'read-composite /3/0/0 /3/0/9 /3/0/6 /3303/0/5700',
      'observe-composite /3303/1/5700',
    ]);
  });

  it('reports a device without profile, and sets it up once its profile arrives', async () => {
    devices.register(registration({ endpoint: 'other' }));
    devices.register(registration({ id: 'reg-2' }));
    await flow.idle();
    expect(publisher.events.map((e) => [e.endpoint, e.profile, e.event])).toEqual([
      ['other', null, { type: 'profile-missing' }],
      ['dev-1', 'sensor', { type: 'profile-missing', profile: 'sensor' }],
    ]);
    expect(devices.calls).toEqual([]);
    registry.putDocument(SENSOR, 'test');
    await flow.idle();
    expect(devices.observations).toHaveLength(2);
  });

  it('undoes a withdrawn profile: observations cancelled, attributes removed', async () => {
    registry.putDocument(SENSOR, 'file:a');
    devices.register(registration());
    await flow.idle();
    devices.calls.length = 0;
    registry.delete('sensor', 'file:a');
    await flow.idle();
    expect(devices.calls).toEqual([
      'write-attributes /3303/0/5700 {"pmin":null,"pmax":null}',
      'cancel-composite /3/0/9',
      'cancel-composite /3303/0/5700',
    ]);
    expect(devices.observations).toEqual([]);
    expect(events.some((e) => e.type === 'profile-missing')).toBe(true);
  });

  it('moves a device to the profile its new provisioning record names', async () => {
    registry.putDocument(SENSOR, 'test');
    registry.putDocument({ name: 'battery-only', observeAttr: { telemetry: ['/3/0/9'], observe: ['/3/0/9'] } }, 'test');
    devices.register(registration());
    await flow.idle();
    await store.put({ endpoint: 'dev-1', profile: 'battery-only' });
    assigner.invalidate('dev-1');
    flow.assignmentChanged('dev-1');
    await flow.idle();
    expect(devices.observations.map((o) => [o.kind, o.paths])).toEqual([['single', ['/3/0/9']]]);
    expect(flow.profileOfEndpoint('dev-1')).toBe('battery-only');
  });
});

describe('ReportMapper', () => {
  it('maps notifications and Send with the device profile, and the rest under paths', async () => {
    registry.putDocument(SENSOR, 'test');
    const uplink = new ReportMapper({
      registry,
      assigner,
      publisher,
      onFailure: (e) => failures.push(String(e)),
      now: () => 2000,
    });
    uplink.attach(devices.events);
    const reg = registration();
    devices.notify(
      { token: 'a', registrationId: reg.id, endpoint: reg.endpoint, kind: 'single', paths: ['/3303/0'], createdAt: 0 },
      reg,
    );
    const n = await publisher.waitFor((v) => v.source.op === 'notify');
    expect(n).toMatchObject({
      profile: 'sensor',
      ts: 2000,
      values: { temperature: 21.5, '/3303/0/5701': 'Cel' },
      source: { op: 'notify', paths: ['/3303/0'] },
    });
    await uplink.handleSend(registration({ endpoint: 'unknown' }), [
      { timestamp: 42, nodes: new Map([['/3/0/9', VALUES.get('/3/0/9') ?? null]]) },
    ]);
    expect(publisher.values.at(-1)).toEqual({
      topic: 'telemetry',
      endpoint: 'unknown',
      profile: null,
      ts: 42,
      values: { '/3/0/9': 87 },
      source: { op: 'send', paths: ['/3/0/9'] },
      types: { '/3/0/9': 'INTEGER' },
    });
  });
});
