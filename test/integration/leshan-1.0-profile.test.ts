/**
 * A real LwM2M 1.0 client (Eclipse Leshan 1.5.0) under a device profile, with the bridge on real
 * Redis and real Kafka and a relay recording every datagram the bridge sends it. LwM2M 1.0 has no
 * composite operations (they came with 1.1), so the setup reads path by path with single Reads
 * and observes path by path, whatever strategy the profile asks for; attributes and telemetry
 * reach Kafka; then RPC records on the requests topic, by profile key, reach the device and get
 * their response records.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startApp, type App } from '../../src/app';
import { Method, Opt } from '../../src/coap/message';
import { getUintOption, uriPath, uriQuery } from '../../src/coap/options';
import { loadConfig } from '../../src/config/env';
import { ContentFormat } from '../../src/lwm2m/codec/types';
import { createLogger } from '../../src/observability/logger';
import { realInfraEnv } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords, type CollectedRecord } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { UdpTap } from '../support/udp-tap';
import { until } from '../support/until';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const prefix = `l10p-${run}.`;
const topics = {
  telemetry: `${prefix}telemetry`,
  attributes: `${prefix}attributes`,
  events: `${prefix}events`,
  requests: `${prefix}rpc.requests`,
  responses: `${prefix}rpc.responses`,
};
const EP = `l10p-dev-${run}`;
const PROFILE = {
  name: 'l10-thermometer',
  observeAttr: {
    keyName: {
      '/3/0/0': 'manufacturer',
      '/3/0/9': 'batteryLevel',
      '/3/0/7': 'voltages',
      '/3/0/15': 'timezone',
      '/3/0/4': 'reboot',
      '/3303/0/5700': 'temperature',
    },
    attribute: ['/3/0/0'],
    telemetry: ['/3/0/9', '/3/0/7', '/3303/0/5700'],
    observe: ['/3303/0/5700', '/3/0/9'],
    attributeLwm2m: { '/3303/0/5700': { pmin: 0, pmax: 30 } },
    // Asks for one Observe-Composite: a 1.0 device must get single Observes instead.
    observeStrategy: 'COMPOSITE_ALL',
  },
};
/** Content formats LwM2M 1.0 does not know (SenML JSON, SenML CBOR, CBOR; LwM2M 1.1 §7.4). */
const NOT_IN_1_0 = new Set<number>([ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR, ContentFormat.CBOR]);

let app: App;
let tap: UdpTap;
let client: LeshanClientHandle;
let records: KafkaRecords;
let producer: Producer;
let profilesDir: string;

const ofDevice = (topic: string) => (r: CollectedRecord) => r.topic === topic && r.key === EP;

async function rpc(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = `l10-rpc-${randomUUID()}`;
  await producer.send({
    topic: topics.requests,
    messages: [{ key: EP, value: JSON.stringify({ id, endpoint: EP, method, params, timeoutMs: 20_000 }) }],
  });
  const response = await records.waitFor(
    (r) => r.topic === topics.responses && r.value.id === id,
    30_000,
    `RPC response ${id}`,
  );
  return response.value;
}

beforeAll(async () => {
  profilesDir = mkdtempSync(join(tmpdir(), 'l10p-profiles-'));
  writeFileSync(join(profilesDir, 'thermometer.json'), JSON.stringify(PROFILE));
  const kafka = new Kafka({ clientId: `l10p-${run}`, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: topics.requests }, { topic: topics.responses }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  records = await KafkaRecords.follow(testKafkaBrokers(), [
    topics.telemetry,
    topics.attributes,
    topics.events,
    topics.responses,
  ]);
  app = await startApp(
    loadConfig(
      realInfraEnv(`l10p-${run}`, prefix, {
        PROFILES_DIR: profilesDir,
        PROFILE_RULES: JSON.stringify([{ pattern: 'l10p-dev-*', profile: PROFILE.name }]),
        LWM2M_REQUEST_TIMEOUT_MS: '15000',
      }),
    ),
    createLogger('silent'),
  );
  tap = await UdpTap.start(app.coapPort);
  client = await startLeshanClient({
    serverPort: tap.port,
    endpoint: EP,
    lwm2mVersion: '1.0',
    lifetime: 300,
    tickMs: 200,
  });
  await client.waitFor(/^REGISTERED /, 30_000);
}, 90_000);

afterAll(async () => {
  await client?.stop();
  await app?.stop();
  await tap?.close();
  await records?.close();
  await producer?.disconnect();
  if (profilesDir !== undefined) rmSync(profilesDir, { recursive: true, force: true });
});

describe('the profile flow for a LwM2M 1.0 client', () => {
  beforeAll(async () => {
    // The setup ends with the observations: both established means the reads and attribute writes are done.
    await until(
      `two observations of ${EP}`,
      async () => ((await app.server.listObservations(EP)).length >= 2 ? true : undefined),
      30_000,
      100,
    );
  });

  it('publishes the attributes read at registration on Kafka, under the profile keys', async () => {
    const attributes = await records.waitFor(ofDevice(topics.attributes), 20_000, `attributes of ${EP}`);
    expect(attributes.value).toMatchObject({
      endpoint: EP,
      profile: PROFILE.name,
      values: { manufacturer: 'Leshan Test Devices' },
      source: { op: 'read' },
    });
  });

  it('publishes the telemetry read at registration with typed values', async () => {
    const read = (r: CollectedRecord): boolean =>
      ofDevice(topics.telemetry)(r) && (r.value.source as { op: string }).op === 'read';
    await records.waitFor(read, 20_000, `telemetry read of ${EP}`);
    const values = Object.assign({}, ...records.records.filter(read).map((r) => r.value.values)) as Record<
      string,
      unknown
    >;
    expect(values).toEqual({
      batteryLevel: 87,
      voltages: { '0': 3800, '1': 5000 },
      temperature: expect.any(Number),
    });
  });

  it('read with single Reads (GET) only: no Read-Composite (FETCH), no SenML or CBOR on the wire', () => {
    const requests = tap.downlinks.flatMap((d) =>
      d.message !== null && d.message.code >= 1 && d.message.code <= 31 ? [d.message] : [],
    );
    const gets = requests.filter((m) => m.code === Method.GET).map((m) => `/${uriPath(m).join('/')}`);
    expect(gets).toEqual(expect.arrayContaining(['/3/0/0', '/3/0/9', '/3/0/7', '/3303/0/5700']));
    expect(requests.filter((m) => m.code === Method.FETCH || m.code === Method.IPATCH)).toEqual([]);
    const formats = requests.flatMap((m) =>
      [getUintOption(m, Opt.ACCEPT), getUintOption(m, Opt.CONTENT_FORMAT)].filter((f) => f !== undefined),
    );
    expect(formats.filter((f) => NOT_IN_1_0.has(f))).toEqual([]);
  });

  it('establishes one single observation per path, although the profile asks COMPOSITE_ALL', async () => {
    const observations = await app.server.listObservations(EP);
    expect(observations.map((o) => [o.kind, [...o.paths]]).sort()).toEqual([
      ['single', ['/3/0/9']],
      ['single', ['/3303/0/5700']],
    ]);
  });

  it('writes the notification attributes; Leshan 1.x refuses Write-Attributes (5.00), reported on Kafka', async () => {
    // leshan-client-core 1.5.0 answers every Write-Attributes "5.00 not implemented": pmin/pmax cannot
    // take effect on this client. The bridge sent it, and tells the platform the device refused it.
    const failed = await records.waitFor(
      (r) => ofDevice(topics.events)(r) && r.value.type === 'write-attributes-failed',
      20_000,
      `write-attributes-failed event of ${EP}`,
    );
    expect(failed.value.detail).toMatchObject({
      reason: 'INTERNAL_SERVER_ERROR',
      paths: ['/3303/0/5700'],
      message: 'not implemented',
    });
    const written = tap.downlinks.filter(
      (d) =>
        d.message?.code === Method.PUT &&
        uriPath(d.message).join('/') === '3303/0/5700' &&
        getUintOption(d.message, Opt.CONTENT_FORMAT) === undefined,
    );
    // Write-Attributes (OMA-TS-LightweightM2M-V1_0 §5.4.4): PUT with the attributes as Uri-Query, no payload.
    expect(written.map((d) => (d.message === null ? [] : uriQuery(d.message).sort()))).toEqual([['pmax=30', 'pmin=0']]);
  });

  it('publishes notifications as telemetry under the profile keys', async () => {
    const n = await records.waitFor(
      (r) =>
        ofDevice(topics.telemetry)(r) &&
        (r.value.source as { op: string }).op === 'notify' &&
        typeof (r.value.values as Record<string, unknown>).temperature === 'number',
      20_000,
      `notified temperature of ${EP}`,
    );
    expect(n.value).toMatchObject({ profile: PROFILE.name, types: { temperature: 'FLOAT' } });
  });
});

describe('RPC by key through Kafka to a LwM2M 1.0 client', () => {
  it('Read by key', async () => {
    expect(await rpc('Read', { key: 'batteryLevel' })).toMatchObject({
      endpoint: EP,
      result: 'CONTENT',
      value: { '/3/0/9': 87 },
      types: { '/3/0/9': 'INTEGER' },
    });
  });

  it('WriteReplace by key reaches the device, and reads back', async () => {
    expect(await rpc('WriteReplace', { key: 'timezone', value: 'Europe/Oslo' })).toMatchObject({ result: 'CHANGED' });
    await client.waitFor(/^WRITTEN \/3\/0\/15 Europe\/Oslo$/);
    expect(await rpc('Read', { key: 'timezone' })).toMatchObject({ value: { '/3/0/15': 'Europe/Oslo' } });
  });

  it('Execute by key reaches the device', async () => {
    expect(await rpc('Execute', { key: 'reboot' })).toMatchObject({ result: 'CHANGED' });
    await client.waitFor(/^EXECUTED \/3\/0\/4$/);
  });

  it('a format LwM2M 1.0 lacks is refused before sending, naming it; composite methods too', async () => {
    const sent = tap.downlinks.length;
    const senml = await rpc('Read', { key: 'batteryLevel', contentFormat: 'SENML_JSON' });
    expect(senml).toMatchObject({ result: 'BAD_REQUEST' });
    expect(senml.error).toMatch(/^params\.contentFormat: SENML_JSON \(110\) is not a LwM2M 1\.0 format and l10p-dev-/);
    const cbor = await rpc('WriteReplace', { key: 'timezone', value: 'UTC', contentFormat: 'SENML_CBOR' });
    expect(cbor).toMatchObject({ result: 'BAD_REQUEST' });
    const composite = await rpc('ReadComposite', { keys: ['batteryLevel', 'timezone'] });
    expect(composite).toMatchObject({ result: 'BAD_REQUEST' });
    expect(composite.error).toMatch(/registered with LwM2M 1\.0; composite operations need 1\.1 or later/);
    // Nothing but notifications (responses, not requests) reached the device meanwhile.
    const requests = tap.downlinks
      .slice(sent)
      .filter((d) => d.message !== null && d.message.code <= 31 && d.message.code >= 1);
    expect(requests).toEqual([]);
  });

  it('a format LwM2M 1.0 has is used as asked', async () => {
    expect(await rpc('Read', { key: 'batteryLevel', contentFormat: 'JSON' })).toMatchObject({
      result: 'CONTENT',
      value: { '/3/0/9': 87 },
    });
  });
});
