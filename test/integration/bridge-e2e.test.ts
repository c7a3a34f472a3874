/**
 * End to end: the real Leshan client registers under a profile with the bridge running as its own
 * process on real Redis and real Kafka. Telemetry and attribute records arrive on Kafka with the
 * profile's keys and typed values. Then the bridge is killed and a new process takes over the
 * same port: the device carries on without re-registering, its notifications are matched from
 * Redis, and its Update is served.
 */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { testKafkaBrokers, testRedisUrl } from '../support/infra';
import { KafkaRecords } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';

const run = randomUUID().slice(0, 8);
const prefix = `e2e-${run}.`;
const topics = { telemetry: `${prefix}telemetry`, attributes: `${prefix}attributes`, events: `${prefix}events` };
const EP = `e2e-dev-${run}`;

let dir: string;
let records: KafkaRecords;
let bridge: BridgeProcess | undefined;
let client: LeshanClientHandle | undefined;
let env: Record<string, string>;

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const PROFILE = {
  name: 'e2e-thermometer',
  updatedAt: '2026-11-21T12:00:00Z',
  unmappedPaths: 'drop',
  observeAttr: {
    keyName: {
      '/3/0/0': 'manufacturer',
      '/3/0/9': 'batteryLevel',
      '/3/0/7': 'voltages',
      '/3303/0/5700': 'temperature',
    },
    attribute: ['/3/0/0'],
    telemetry: ['/3/0/9', '/3/0/7', '/3303/0/5700'],
    observe: ['/3303/0/5700'],
    attributeLwm2m: { '/3303/0/5700': { pmin: 0, pmax: 30 } },
    observeStrategy: 'SINGLE',
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lwm2m-e2e-'));
  await writeFile(join(dir, 'thermometer.json'), JSON.stringify(PROFILE));
  records = await KafkaRecords.follow(testKafkaBrokers(), Object.values(topics));
  const port = await freeUdpPort();
  env = {
    COAP_HOST: '127.0.0.1',
    COAP_PORT: String(port),
    HTTP_PORT: '0',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: `e2e-${run}`,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    PROFILES_DIR: dir,
    PROFILE_RULES: JSON.stringify([{ pattern: 'e2e-dev-*', profile: 'e2e-thermometer' }]),
  };
  bridge = await startBridgeProcess({ ...env, INSTANCE_ID: 'bridge-a' });
  client = await startLeshanClient({ serverPort: port, endpoint: EP, lifetime: 300, tickMs: 200 });
  await client.waitFor(/^REGISTERED /, 30_000);
}, 90_000);

afterAll(async () => {
  await client?.stop();
  await bridge?.kill();
  await records?.close();
  await rm(dir, { recursive: true, force: true });
});

const ofDevice =
  (topic: string) =>
  (r: { topic: string; key: string | null }): boolean =>
    r.topic === topic && r.key === EP;

it('publishes the registration, attributes and telemetry under the profile keys with typed values', async () => {
  const registered = await records.waitFor(
    (r) => ofDevice(topics.events)(r) && r.value['type'] === 'registered',
    30_000,
    'registered event',
  );
  expect(registered.headers['schema-version']).toBe('1');
  expect(registered.headers['instance-id']).toBe('bridge-a');
  const attrs = await records.waitFor(
    (r) => ofDevice(topics.attributes)(r) && 'manufacturer' in (r.value['values'] as object),
    30_000,
    'attributes record',
  );
  expect(attrs.value).toMatchObject({
    endpoint: EP,
    profile: 'e2e-thermometer',
    values: { manufacturer: 'Leshan Test Devices' },
    types: { manufacturer: 'STRING' },
  });
  const tele = await records.waitFor(
    (r) => ofDevice(topics.telemetry)(r) && 'batteryLevel' in (r.value['values'] as object),
    30_000,
    'telemetry record',
  );
  expect(tele.value).toMatchObject({
    values: { batteryLevel: 87, voltages: { '0': 3800, '1': 5000 } },
    types: { batteryLevel: 'INTEGER' },
  });
  const notified = await records.waitFor(
    (r) => ofDevice(topics.telemetry)(r) && (r.value['source'] as { op: string }).op === 'notify',
    30_000,
    'notification record',
  );
  expect(typeof (notified.value['values'] as Record<string, unknown>)['temperature']).toBe('number');
});

it('survives the death of its bridge: a new process serves the device without re-registration', async () => {
  await bridge?.kill();
  const killedAt = records.records.length;
  bridge = await startBridgeProcess({ ...env, INSTANCE_ID: 'bridge-b' });
  // Notifications of the observation established by bridge-a are matched from Redis by bridge-b.
  const fromB = await records.waitFor(
    (r) =>
      ofDevice(topics.telemetry)(r) &&
      r.headers['instance-id'] === 'bridge-b' &&
      (r.value['source'] as { op: string }).op === 'notify',
    30_000,
    'notification through bridge-b',
  );
  expect(typeof (fromB.value['values'] as Record<string, unknown>)['temperature']).toBe('number');
  client?.send('update');
  await client?.waitFor(/^UPDATED/, 30_000);
  const updated = await records.waitFor(
    (r) => ofDevice(topics.events)(r) && r.value['type'] === 'updated' && r.headers['instance-id'] === 'bridge-b',
    30_000,
    'updated event from bridge-b',
  );
  expect(updated.value['endpoint']).toBe(EP);
  const newRegistrations = records.records
    .slice(killedAt)
    .filter((r) => ofDevice(topics.events)(r) && r.value['type'] === 'registered');
  expect(newRegistrations).toHaveLength(0);
  expect(client?.lines.filter((l) => l.startsWith('REGISTERED '))).toHaveLength(1);
});

it('on SIGTERM stops taking datagrams, flushes and exits cleanly', async () => {
  const b = bridge;
  bridge = undefined;
  expect(await b?.terminate()).toBe(0);
  expect(b?.lines.some((l) => l.includes('"msg":"shutting down"'))).toBe(true);
});
