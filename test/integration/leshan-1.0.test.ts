/**
 * A real LwM2M 1.0 client nobody here wrote (Eclipse Leshan 1.5.0's, in its own JVM) against the
 * bridge on real Redis and real Kafka: registration as 1.0 with its registered event on Kafka,
 * Read and Write in TLV and LwM2M JSON (OMA-TS-LightweightM2M-V1_0 §6.4: 1.0 has no SenML nor
 * CBOR), a Write without a format in one 1.0 allows, Observe with notifications on the telemetry
 * topic, Write-Attributes, Execute, Update and De-register.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/env';
import { ContentFormat } from '../../src/lwm2m/codec/types';
import { instance, single, type LwM2mNode } from '../../src/lwm2m/node';
import { parsePath } from '../../src/lwm2m/path';
import { createLogger } from '../../src/observability/logger';
import { realInfraEnv } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const prefix = `l10-${run}.`;
const topics = { telemetry: `${prefix}telemetry`, events: `${prefix}events` };
const EP = `l10-dev-${run}`;
/** Keys the sensor value only: what an observation of it notifies becomes telemetry. Nothing is set up. */
const PROFILE = {
  name: 'l10-basic',
  observeAttr: {
    keyName: { '/3303/0/5700': 'temperature' },
    attribute: [],
    telemetry: ['/3303/0/5700'],
    observe: [],
    attributeLwm2m: {},
  },
};

let app: App;
let client: LeshanClientHandle;
let records: KafkaRecords;
let profilesDir: string;

beforeAll(async () => {
  profilesDir = mkdtempSync(join(tmpdir(), 'l10-profiles-'));
  writeFileSync(join(profilesDir, 'basic.json'), JSON.stringify(PROFILE));
  records = await KafkaRecords.follow(testKafkaBrokers(), Object.values(topics));
  app = await startApp(
    loadConfig(
      realInfraEnv(`l10-${run}`, prefix, {
        PROFILES_DIR: profilesDir,
        PROFILE_RULES: JSON.stringify([{ pattern: 'l10-dev-*', profile: PROFILE.name }]),
        LWM2M_REQUEST_TIMEOUT_MS: '15000',
      }),
    ),
    createLogger('silent'),
  );
  client = await startLeshanClient({
    serverPort: app.coapPort,
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
  await records?.close();
  if (profilesDir !== undefined) rmSync(profilesDir, { recursive: true, force: true });
});

const valueOf = (node: LwM2mNode | undefined): unknown =>
  node && (node.kind === 'resource' || node.kind === 'resourceInstance') ? node.value : undefined;

describe('registration of a Leshan 1.x client', () => {
  it('registers as LwM2M 1.0 and the registered event reaches Kafka', async () => {
    const reg = await app.server.registration(EP);
    expect(reg.lwm2mVersion).toBe('1.0');
    expect(reg.binding).toBe('U');
    expect(reg.objects.map((o) => o.objectId)).toEqual(expect.arrayContaining([1, 3, 4, 6, 3303]));
    const event = await records.waitFor(
      (r) => r.topic === topics.events && r.key === EP && r.value.type === 'registered',
      20_000,
      `registered event of ${EP}`,
    );
    expect(event.value.registration).toMatchObject({ id: reg.id, lwm2mVersion: '1.0', binding: 'U', queueMode: false });
  });
});

describe.each([
  ['TLV', ContentFormat.TLV],
  ['LwM2M JSON', ContentFormat.JSON],
])('in %s', (_name, format) => {
  it('reads an object instance with typed values', async () => {
    const r = await app.server.read(EP, parsePath('/3/0'), { format });
    expect(r.result).toBe('CONTENT');
    expect(r.contentFormat).toBe(format);
    expect(r.node?.kind).toBe('instance');
    if (r.node?.kind !== 'instance') return;
    expect(r.node.resources.get(0)).toMatchObject({ kind: 'resource', type: 'STRING', value: 'Leshan Test Devices' });
    expect(r.node.resources.get(9)).toMatchObject({ kind: 'resource', type: 'INTEGER', value: 87 });
    expect(r.node.resources.get(13)).toMatchObject({ kind: 'resource', type: 'TIME' });
    const power = r.node.resources.get(6);
    expect(power?.kind === 'multiResource' ? [...power.instances.entries()] : []).toEqual([
      [0, 1],
      [1, 5],
    ]);
  });

  it('reads a single resource', async () => {
    const r = await app.server.read(EP, parsePath('/3303/0/5700'), { format });
    expect(r.result).toBe('CONTENT');
    expect(r.contentFormat).toBe(format);
    expect(typeof valueOf(r.node)).toBe('number');
  });

  it('writes a resource (replace) and an instance (update), each read back', async () => {
    const tz = `Zone/F${format}`;
    const w = await app.server.write(EP, parsePath('/3/0/15'), single(15, 'STRING', tz), 'replace', { format });
    expect(w.result).toBe('CHANGED');
    await client.waitFor(new RegExp(`^WRITTEN /3/0/15 ${tz.replace('/', '\\/')}$`));
    expect(valueOf((await app.server.read(EP, parsePath('/3/0/15'), { format })).node)).toBe(tz);
    const offset = format === ContentFormat.TLV ? '+02:00' : '+03:00';
    const node = instance(0, [single(14, 'STRING', offset), single(15, 'STRING', `Europe/F${format}`)]);
    expect((await app.server.write(EP, parsePath('/3/0'), node, 'update', { format })).result).toBe('CHANGED');
    await client.waitFor(new RegExp(`^WRITTEN /3/0/14 \\${offset}$`));
    expect(valueOf((await app.server.read(EP, parsePath('/3/0/14'), { format })).node)).toBe(offset);
  });
});

describe('operations of LwM2M 1.0', () => {
  it('a Write without a format goes in one 1.0 allows, for a resource and for an instance', async () => {
    // Leshan 1.x decodes TLV, LwM2M JSON, text and opaque only: a SenML or CBOR payload would get 4.15.
    const w = await app.server.write(EP, parsePath('/3/0/15'), single(15, 'STRING', 'Asia/Tokyo'), 'replace');
    expect(w.result).toBe('CHANGED');
    await client.waitFor(/^WRITTEN \/3\/0\/15 Asia\/Tokyo$/);
    const node = instance(0, [single(14, 'STRING', '+09:00')]);
    expect((await app.server.write(EP, parsePath('/3/0'), node, 'update')).result).toBe('CHANGED');
    await client.waitFor(/^WRITTEN \/3\/0\/14 \+09:00$/);
  });

  it('a Read without a format is answered in a 1.0 format and decoded', async () => {
    const r = await app.server.read(EP, parsePath('/3/0'));
    expect(r.result).toBe('CONTENT');
    expect([ContentFormat.TLV, ContentFormat.JSON]).toContain(r.contentFormat);
    expect(r.node?.kind === 'instance' ? r.node.resources.get(15) : undefined).toMatchObject({ value: 'Asia/Tokyo' });
  });

  it('reads a single value as text/plain', async () => {
    const r = await app.server.read(EP, parsePath('/3/0/9'), { format: ContentFormat.TEXT });
    expect(r.contentFormat).toBe(ContentFormat.TEXT);
    expect(valueOf(r.node)).toBe(87);
  });

  it('observes the sensor value: notifications reach Kafka as telemetry under the profile key, then cancels', async () => {
    const o = await app.server.observe(EP, parsePath('/3303/0/5700'), { format: ContentFormat.TLV });
    expect(o.result).toBe('CONTENT');
    expect(o.observation).toBeDefined();
    const seen = new Set<number>();
    await records.waitFor(
      (r) => {
        if (r.topic !== topics.telemetry || r.key !== EP) return false;
        const source = r.value.source as { op?: string } | undefined;
        const t = (r.value.values as Record<string, unknown> | undefined)?.temperature;
        if (source?.op === 'notify' && typeof t === 'number') seen.add(t);
        return seen.size >= 2; // two distinct values: notifications, not one read
      },
      20_000,
      'two notified temperatures on the telemetry topic',
    );
    const telemetry = records.records.find((r) => r.topic === topics.telemetry && r.key === EP);
    expect(telemetry?.value).toMatchObject({ endpoint: EP, profile: PROFILE.name, types: { temperature: 'FLOAT' } });
    expect(await app.server.cancelObservations(EP, { kind: 'single', paths: ['/3303/0/5700'] }, 'active')).toBe(1);
  });

  it('executes a resource with and without arguments; EXECUTED is seen on the client', async () => {
    expect((await app.server.execute(EP, parsePath('/3/0/4'))).result).toBe('CHANGED');
    await client.waitFor(/^EXECUTED \/3\/0\/4$/);
    expect((await app.server.execute(EP, parsePath('/3/0/5'), "0='now'")).result).toBe('CHANGED');
    expect(await client.waitFor(/^EXECUTED \/3\/0\/5 /)).toBe("EXECUTED /3/0/5 0='now'");
    expect((await app.server.execute(EP, parsePath('/3/0/9'))).result).toBe('METHOD_NOT_ALLOWED');
  });

  it('a client restricted to TLV and text refuses LwM2M JSON (4.06, 4.15), and the default format works', async () => {
    const ep = `l10-dev-tlv-${run}`;
    const tlvOnly = await startLeshanClient({
      serverPort: app.coapPort,
      endpoint: ep,
      lwm2mVersion: '1.0',
      formats: ['tlv', 'text', 'link'],
      tickMs: 60_000,
    });
    try {
      await tlvOnly.waitFor(/^REGISTERED /, 30_000);
      const json = await app.server.read(ep, parsePath('/3/0'), { format: ContentFormat.JSON });
      expect(json.result).toBe('NOT_ACCEPTABLE');
      const node = single(15, 'STRING', 'Etc/UTC');
      const w = await app.server.write(ep, parsePath('/3/0/15'), node, 'replace', { format: ContentFormat.JSON });
      expect(w.result).toBe('UNSUPPORTED_CONTENT_FORMAT');
      const r = await app.server.read(ep, parsePath('/3/0'));
      expect(r).toMatchObject({ result: 'CONTENT', contentFormat: ContentFormat.TLV });
      expect((await app.server.write(ep, parsePath('/3/0/15'), node, 'replace')).result).toBe('CHANGED');
      await tlvOnly.waitFor(/^WRITTEN \/3\/0\/15 Etc\/UTC$/);
    } finally {
      await tlvOnly.stop();
    }
  });

  it('a client without TLV: after one refusal of TLV it is read and written in LwM2M JSON', async () => {
    const ep = `l10-dev-json-${run}`;
    const jsonOnly = await startLeshanClient({
      serverPort: app.coapPort,
      endpoint: ep,
      lwm2mVersion: '1.0',
      formats: ['json', 'text', 'link'],
      tickMs: 60_000,
    });
    try {
      await jsonOnly.waitFor(/^REGISTERED /, 30_000);
      // The profile's setup reads /3303/0/5700 first: its TLV Read gets 4.06 and is sent again in JSON.
      const fallback = await records.waitFor(
        (r) => r.topic === topics.events && r.key === ep && r.value.type === 'capability-fallback',
        20_000,
        `capability-fallback of ${ep}`,
      );
      expect(fallback.value.detail).toMatchObject({
        reason: expect.stringMatching(/^(NOT_ACCEPTABLE|UNSUPPORTED_CONTENT_FORMAT)$/),
        contentFormat: ContentFormat.TLV,
        fallbackContentFormat: ContentFormat.JSON,
      });
      const node = single(15, 'STRING', 'America/Lima');
      expect((await app.server.write(ep, parsePath('/3/0/15'), node, 'replace')).result).toBe('CHANGED');
      await jsonOnly.waitFor(/^WRITTEN \/3\/0\/15 America\/Lima$/);
      const r = await app.server.read(ep, parsePath('/3/0'));
      expect(r).toMatchObject({ result: 'CONTENT', contentFormat: ContentFormat.JSON });
    } finally {
      await jsonOnly.stop();
    }
  });

  it('queue mode is the binding UQ in LwM2M 1.0 (§5.3.1): registered as queue mode, and read while awake', async () => {
    const ep = `l10-dev-uq-${run}`;
    const queued = await startLeshanClient({
      serverPort: app.coapPort,
      endpoint: ep,
      lwm2mVersion: '1.0',
      queueMode: true,
      tickMs: 60_000,
    });
    try {
      await queued.waitFor(/^REGISTERED /, 30_000);
      const event = await records.waitFor(
        (r) => r.topic === topics.events && r.key === ep && r.value.type === 'registered',
        20_000,
        `registered event of ${ep}`,
      );
      expect(event.value.registration).toMatchObject({ lwm2mVersion: '1.0', binding: 'UQ', queueMode: true });
      const r = await app.server.read(ep, parsePath('/3/0/9'));
      expect(valueOf(r.node)).toBe(87);
    } finally {
      await queued.stop();
    }
  });

  it('updates, then deregisters; both events reach Kafka', async () => {
    client.send('update');
    await client.waitFor(/^UPDATED$/);
    await records.waitFor(
      (r) => r.topic === topics.events && r.key === EP && r.value.type === 'updated',
      20_000,
      `updated event of ${EP}`,
    );
    client.send('deregister');
    await client.waitFor(/^DEREGISTERED$/);
    await records.waitFor(
      (r) => r.topic === topics.events && r.key === EP && r.value.type === 'deregistered',
      20_000,
      `deregistered event of ${EP}`,
    );
    await expect(app.server.registration(EP)).rejects.toThrow();
  });
});
