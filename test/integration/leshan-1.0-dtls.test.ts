/**
 * A real LwM2M 1.0 client (Eclipse Leshan 1.5.0 on Scandium 2.8) over CoAPS with a pre-shared key
 * (OMA-TS-LightweightM2M-V1_0 §7.1, DTLS 1.2 in PSK mode) against the bridge on real Redis and Kafka,
 * its credential provisioned through the compacted devices topic: it registers as 1.0 over DTLS,
 * is read in TLV and LwM2M JSON through its DTLS connection, and its notifications arrive.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/env';
import { ContentFormat } from '../../src/lwm2m/codec/types';
import type { LwM2mNode } from '../../src/lwm2m/node';
import { parsePath } from '../../src/lwm2m/path';
import { createLogger } from '../../src/observability/logger';
import { realInfraEnv } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords, createCompactedTopics } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { until } from '../support/until';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const prefix = `l10d-${run}.`;
const topics = { devices: `${prefix}devices`, profiles: `${prefix}profiles`, events: `${prefix}events` };
const EP = `l10d-dev-${run}`;
const IDENTITY = `l10d-id-${run}`;
const KEY_HEX = Buffer.from('leshan-1.0-psk-secret').toString('hex');

let app: App;
let client: LeshanClientHandle | undefined;
let producer: Producer;
let records: KafkaRecords;

const valueOf = (node: LwM2mNode | undefined): unknown =>
  node && (node.kind === 'resource' || node.kind === 'resourceInstance') ? node.value : undefined;

beforeAll(async () => {
  const kafka = new Kafka({ clientId: `l10d-${run}`, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
  await createCompactedTopics(kafka, [topics.devices, topics.profiles]);
  producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: topics.devices,
    messages: [
      {
        key: EP,
        value: JSON.stringify({ endpoint: EP, credentials: { mode: 'psk', identity: IDENTITY, key: KEY_HEX } }),
      },
    ],
  });
  records = await KafkaRecords.follow(testKafkaBrokers(), [topics.events]);
  app = await startApp(
    loadConfig(
      realInfraEnv(`l10d-${run}`, prefix, {
        DTLS_SHARED_SECRET: 'a-shared-cookie-secret-for-tests',
        LWM2M_REQUEST_TIMEOUT_MS: '15000',
      }),
    ),
    createLogger('silent'),
  );
}, 90_000);

afterAll(async () => {
  await client?.stop();
  await app?.stop();
  await records?.close();
  await producer?.disconnect();
});

it('registers as LwM2M 1.0 over DTLS with its pre-shared key; the registered event reaches Kafka', async () => {
  expect(app.coapsPort).toBeGreaterThan(0);
  // Provisioned before the start: startApp stores the records present on the devices topic before it listens.
  client = await startLeshanClient({
    serverPort: app.coapsPort as number,
    endpoint: EP,
    lwm2mVersion: '1.0',
    psk: { identity: IDENTITY, keyHex: KEY_HEX },
    lifetime: 300,
    tickMs: 200,
  });
  await client.waitFor(/^REGISTERED /, 40_000);
  const reg = await until(`registration of ${EP}`, () => app.server.registration(EP).catch(() => undefined), 10_000);
  expect(reg).toMatchObject({ lwm2mVersion: '1.0', security: { mode: 'psk', name: IDENTITY } });
  const event = await records.waitFor(
    (r) => r.key === EP && r.value.type === 'registered',
    20_000,
    `registered event of ${EP}`,
  );
  expect(event.value.registration).toMatchObject({ id: reg.id, lwm2mVersion: '1.0' });
});

it.each([
  ['TLV', ContentFormat.TLV],
  ['LwM2M JSON', ContentFormat.JSON],
])('is read in %s over its DTLS connection', async (_name, format) => {
  const r = await app.server.read(EP, parsePath('/3/0'), { format });
  expect(r.result).toBe('CONTENT');
  expect(r.contentFormat).toBe(format);
  expect(r.node?.kind === 'instance' ? valueOf(r.node.resources.get(9)) : undefined).toBe(87);
});

it('is observed over DTLS: notifications arrive, then the observation is cancelled', async () => {
  const notified: unknown[] = [];
  const off = app.server.events.on((e) => {
    if (e.type === 'notification' && e.registration.endpoint === EP)
      notified.push(valueOf(e.nodes.get('/3303/0/5700') ?? undefined));
  });
  try {
    const o = await app.server.observe(EP, parsePath('/3303/0/5700'));
    expect(o.result).toBe('CONTENT');
    await until('two notified temperatures', () => (notified.length >= 2 ? true : undefined), 10_000);
    expect(typeof notified[0]).toBe('number');
    expect(await app.server.cancelObservations(EP, { kind: 'single', paths: ['/3303/0/5700'] }, 'active')).toBe(1);
  } finally {
    off();
  }
});
