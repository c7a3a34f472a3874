/**
 * Device profiles against a real LwM2M client nobody here wrote (Eclipse Leshan, LwM2M 1.1):
 * on registration the profile's paths are read and published under its keys with typed values,
 * notification attributes are written and observations established by each strategy; later
 * notifications publish telemetry; a profile file changed on disk applies without restart.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePath } from '../../src/lwm2m/path';
import { ProfileDirSource } from '../../src/profile/profile-dir-source';
import type { ProfileEvent } from '../../src/profile/profile-events';
import { ProfileRegistry } from '../../src/profile/profile-registry';
import { MemoryProvisioningStore, ProfileAssigner } from '../../src/profile/provisioning';
import { RegistrationFlow } from '../../src/profile/registration-flow';
import type { ObserveStrategy } from '../../src/profile/schema';
import { RecordingPublisher } from '../support/profile-doubles';
import { ReportMapper } from '../../src/profile/report-mapper';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { startTestServer, type TestServer } from '../support/test-server';

let srv: TestServer;
let dir: string;
let registry: ProfileRegistry;
let source: ProfileDirSource;
let flow: RegistrationFlow;
let publisher: RecordingPublisher;
const failures: string[] = [];
const events: Array<{ endpoint: string; event: ProfileEvent }> = [];

const STRATEGIES: ObserveStrategy[] = ['SINGLE', 'COMPOSITE_ALL', 'COMPOSITE_BY_OBJECT'];
const nameOf = (s: ObserveStrategy): string => `temperature-${s.toLowerCase()}`;
const endpointOf = (s: ObserveStrategy): string => `profile-flow-${s.toLowerCase()}`;

function profileDoc(
  strategy: ObserveStrategy,
  version: number,
  observe: string[],
  extraKeys: Record<string, string> = {},
): string {
  return JSON.stringify({
    name: nameOf(strategy),
    version,
    observeAttr: {
      keyName: {
        '/3_1.1/0/0': 'manufacturer',
        '/3/0/9': 'batteryLevel',
        '/3/0/7': 'powerSourceVoltage',
        '/3303_1.1/0/5700': 'temperature',
        '/3303/0/5701': 'units',
        ...extraKeys,
      },
      attribute: ['/3/0/0', '/3303/0/5701'],
      telemetry: ['/3/0/9', '/3/0/7', '/3303/0/5700', ...Object.keys(extraKeys)],
      observe,
      attributeLwm2m: { '/3303/0/5700': { pmin: 0, pmax: 30 } },
      observeStrategy: strategy,
    },
  });
}

beforeAll(async () => {
  srv = await startTestServer({
    requestTimeoutMs: 15_000,
    transmission: { ackTimeoutMs: 2000, ackRandomFactor: 1.5, maxRetransmit: 4 },
  });
  dir = await mkdtemp(join(tmpdir(), 'profile-flow-'));
  for (const s of STRATEGIES)
    await writeFile(join(dir, `${nameOf(s)}.json`), profileDoc(s, 1, ['/3303/0/5700', '/3/0/9']));
  registry = new ProfileRegistry();
  source = new ProfileDirSource({
    dir,
    registry,
    debounceMs: 20,
    rescanMs: 0,
    onError: (e, ctx) => failures.push(`${ctx}: ${String(e)}`),
  });
  await source.start();
  const rules = STRATEGIES.map((s) => ({ pattern: endpointOf(s), profile: nameOf(s) }));
  const assigner = new ProfileAssigner({ store: new MemoryProvisioningStore(), rules });
  publisher = new RecordingPublisher();
  const onFailure = (e: unknown, ctx: string): void => void failures.push(`${ctx}: ${String(e)}`);
  flow = new RegistrationFlow({ server: srv.server, registry, assigner, publisher, onFailure });
  flow.events.on((endpoint, _profile, event) => events.push({ endpoint, event }));
  flow.start();
  new ReportMapper({ registry, assigner, publisher, onFailure }).attach(srv.server.events);
}, 30_000);

afterAll(async () => {
  await flow?.stop();
  await source?.stop();
  await srv?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const observationsOf = async (ep: string): Promise<Array<[string, string[]]>> =>
  (await srv.server.listObservations(ep))
    .map((o): [string, string[]] => [o.kind, [...o.paths].sort()])
    .sort((a, b) => a[1].join().localeCompare(b[1].join()));

const EXPECTED_OBSERVATIONS: Record<ObserveStrategy, Array<[string, string[]]>> = {
  SINGLE: [
    ['single', ['/3/0/9']],
    ['single', ['/3303/0/5700']],
  ],
  COMPOSITE_ALL: [['composite', ['/3/0/9', '/3303/0/5700']]],
  COMPOSITE_BY_OBJECT: [
    ['composite', ['/3/0/9']],
    ['composite', ['/3303/0/5700']],
  ],
};

describe.each(STRATEGIES)('a Leshan client under a %s profile', (strategy) => {
  const ep = endpointOf(strategy);
  let client: LeshanClientHandle;

  beforeAll(async () => {
    client = await startLeshanClient({ serverPort: srv.address.port, endpoint: ep, lifetime: 300, tickMs: 200 });
    await client.waitFor(/^REGISTERED /, 30_000);
    await srv.waitForEvent('registered', (e) => e.registration.endpoint === ep);
    await flow.idle();
  }, 60_000);

  afterAll(async () => {
    await client?.stop();
  });

  it('publishes the read values under the profile keys, typed by the object model', () => {
    const read = publisher.values.filter((v) => v.endpoint === ep && v.source.op === 'read');
    const telemetry = read.find((v) => v.topic === 'telemetry');
    expect(telemetry?.profile).toBe(nameOf(strategy));
    expect(telemetry?.source.paths).toEqual(['/3/0/0', '/3303/0/5701', '/3/0/9', '/3/0/7', '/3303/0/5700']); // one Read-Composite
    expect(telemetry?.values).toEqual({
      batteryLevel: 87,
      powerSourceVoltage: { '0': 3800, '1': 5000 },
      temperature: expect.any(Number),
    });
    expect(telemetry?.types).toEqual({ batteryLevel: 'INTEGER', powerSourceVoltage: 'INTEGER', temperature: 'FLOAT' });
    expect(read.find((v) => v.topic === 'attributes')?.values).toEqual({
      manufacturer: 'Leshan Test Devices',
      units: 'Cel',
    });
  });

  it('writes the notification attributes and establishes the observations of the strategy', async () => {
    const applied = events.find((e) => e.endpoint === ep && e.event.type === 'profile-applied')?.event;
    expect(applied).toMatchObject({
      type: 'profile-applied',
      strategy,
      attributesWritten: 1,
      observationsEstablished: EXPECTED_OBSERVATIONS[strategy].length,
    });
    const discovered = await srv.server.discover(ep, parsePath('/3303/0/5700'));
    expect(discovered.links?.find((l) => l.uri === '/3303/0/5700')?.params).toMatchObject({ pmin: '0', pmax: '30' });
    expect(await observationsOf(ep)).toEqual(EXPECTED_OBSERVATIONS[strategy]);
    expect(failures).toEqual([]);
  });

  it('publishes notifications as telemetry under the profile keys', async () => {
    const n = await publisher.waitFor(
      (v) => v.endpoint === ep && v.source.op === 'notify' && typeof v.values['temperature'] === 'number',
    );
    expect(n.topic).toBe('telemetry');
    expect(n.profile).toBe(nameOf(strategy));
    expect(n.types?.['temperature']).toBe('FLOAT');
  });

  it('applies a changed profile file without restart: a new observed path starts producing', async () => {
    const changed = new Promise<void>((resolve) => {
      const off = registry.onChange((c) => {
        if (c.name !== nameOf(strategy)) return;
        off();
        resolve();
      });
    });
    // Observe the whole temperature instance instead of its sensor value; name the max measured value.
    await writeFile(
      join(dir, `${nameOf(strategy)}.json`),
      profileDoc(strategy, 2, ['/3303/0', '/3/0/9'], { '/3303/0/5602': 'maxTemperature' }),
    );
    await changed;
    await flow.idle();
    const observations = await observationsOf(ep);
    expect(observations.flatMap(([, paths]) => paths)).not.toContain('/3303/0/5700');
    expect(observations.flatMap(([, paths]) => paths)).toContain('/3303/0');
    expect(events.filter((e) => e.endpoint === ep && e.event.type === 'profile-applied').at(-1)?.event).toMatchObject({
      reason: 'profile-changed',
      attributesWritten: 0,
    });
    const n = await publisher.waitFor(
      (v) => v.endpoint === ep && v.source.op === 'notify' && v.source.paths.includes('/3303/0'),
    );
    expect(n.values).toMatchObject({
      temperature: expect.any(Number),
      maxTemperature: expect.any(Number),
      '/3303/0/5601': expect.any(Number),
    });
    expect(failures).toEqual([]);
  });
});
