/**
 * Clients that lack a content format or a composite operation, reproduced by scripted devices on
 * real UDP, against two bridge instances sharing the real Redis and Kafka:
 * - a 1.1 client that announces SenML CBOR but answers 4.06 to it gets its setup reads in the
 *   next format it announced, with one capability-fallback event; what it lacks (the format, and
 *   Read-Composite, answered 5.01) is remembered for the registration in Redis, so that the other
 *   instance, set up again by the device's Update, asks neither again;
 * - a 1.0 client announcing no `ct` is read in TLV; one that answers 4.15 to a TLV Write gets the
 *   Write again in LwM2M JSON (LwM2M 1.0's other multi-value format);
 * - a 1.1 client that answers 4.05 or 5.01 to iPATCH (Write-Composite) gets that answer promptly,
 *   and its next request runs at once.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../../src/app';
import { Code, Method } from '../../src/coap/message';
import { loadConfig } from '../../src/config/env';
import { ContentFormat } from '../../src/lwm2m/codec/types';
import { instance, single, type LwM2mNode } from '../../src/lwm2m/node';
import { createLogger } from '../../src/observability/logger';
import { bridgeMetric, realInfraEnv } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords } from '../support/kafka-records';
import { acceptOf, contentFormatOf, ScriptedDevice, type Answer, type Script } from '../support/scripted-device';
import { uriPath } from '../../src/coap/options';

jest.setTimeout(120_000);

const run = randomUUID().slice(0, 8);
const prefix = `ffb-${run}.`;
const PROFILE = {
  name: 'formats',
  observeAttr: {
    keyName: { '/3/0/0': 'manufacturer', '/3/0/9': 'battery', '/3303/0/5700': 'temperature' },
    attribute: ['/3/0/0'],
    telemetry: ['/3/0/9', '/3303/0/5700'],
    observe: [],
    attributeLwm2m: {},
  },
};
const VALUES: ReadonlyMap<string, LwM2mNode> = new Map<string, LwM2mNode>([
  ['/3/0/0', single(0, 'STRING', 'Acme')],
  ['/3/0/9', single(9, 'INTEGER', 87)],
  ['/3303/0/5700', single(5700, 'FLOAT', 21.5)],
  ['/3/0', instance(0, [single(0, 'STRING', 'Acme'), single(9, 'INTEGER', 87)])],
]);

let a: App;
let b: App;
let records: KafkaRecords;
let profilesDir: string;
const devices: ScriptedDevice[] = [];

const addressOf = (app: App): { address: string; port: number } => ({ address: '127.0.0.1', port: app.coapPort });

/** Answers GET from the value table in the Accept format unless `refused` says otherwise. */
function reader(refused: ReadonlyMap<number, number>, onFetch: number): Script {
  return (r) => {
    if (r.msg.code === Method.FETCH) return { kind: 'code', code: onFetch };
    if (r.msg.code !== Method.GET) return { kind: 'code', code: Code.METHOD_NOT_ALLOWED };
    const accept = acceptOf(r) ?? ContentFormat.TLV;
    const code = refused.get(accept);
    if (code !== undefined) return { kind: 'code', code };
    const node = VALUES.get(`/${uriPath(r.msg).join('/')}`);
    return node === undefined ? { kind: 'code', code: Code.NOT_FOUND } : { kind: 'content', node, format: accept };
  };
}

async function rpc(app: App, ep: string, method: string, params: Record<string, unknown>): Promise<{ result: string }> {
  const res = await fetch(`http://127.0.0.1:${app.httpPort}/devices/${ep}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
    body: JSON.stringify({ method, params, timeoutMs: 20_000 }),
  });
  return (await res.json()) as { result: string };
}

beforeAll(async () => {
  profilesDir = mkdtempSync(join(tmpdir(), 'ffb-profiles-'));
  writeFileSync(join(profilesDir, 'formats.json'), JSON.stringify(PROFILE));
  records = await KafkaRecords.follow(testKafkaBrokers(), [
    `${prefix}attributes`,
    `${prefix}telemetry`,
    `${prefix}events`,
  ]);
  const env = (instance: string): Record<string, string> =>
    realInfraEnv(`ffb-${run}`, prefix, {
      INSTANCE_ID: instance,
      PROFILES_DIR: profilesDir,
      PROFILE_RULES: JSON.stringify([{ pattern: 'ffb-*', profile: 'formats' }]),
    });
  a = await startApp(loadConfig(env(`ffb-a-${run}`)), createLogger('silent'));
  b = await startApp(loadConfig(env(`ffb-b-${run}`)), createLogger('silent'));
}, 90_000);

afterAll(async () => {
  await Promise.all(devices.map((d) => d.close()));
  await a?.stop();
  await b?.stop();
  await records?.close();
  rmSync(profilesDir, { recursive: true, force: true });
});

async function registered(
  app: App,
  endpoint: string,
  version: string,
  links: string,
  script: Script,
): Promise<ScriptedDevice> {
  const device = await ScriptedDevice.register(addressOf(app), { endpoint, version, links }, script);
  devices.push(device);
  return device;
}

it('a 1.1 client refusing its announced SenML CBOR (4.06) and Read-Composite (5.01): read in SenML JSON within seconds; the other instance asks neither again', async () => {
  const ep = `ffb-cbor-${run}`;
  const started = Date.now();
  const device = await registered(
    a,
    ep,
    '1.1',
    '</>;rt="oma.lwm2m";ct="112 110",</3/0>',
    reader(new Map([[ContentFormat.SENML_CBOR, Code.NOT_ACCEPTABLE]]), Code.NOT_IMPLEMENTED),
  );
  const attributes = await records.waitFor(
    (r) => r.topic === `${prefix}attributes` && r.key === ep,
    20_000,
    `attributes of ${ep}`,
  );
  expect(attributes.value).toMatchObject({ values: { manufacturer: 'Acme' } });
  expect(Date.now() - started).toBeLessThan(5000);
  const fallback = (method: string): Promise<{ value: Record<string, unknown> }> =>
    records.waitFor(
      (r) =>
        r.topic === `${prefix}events` &&
        r.key === ep &&
        r.value.type === 'capability-fallback' &&
        (r.value.detail as { method?: string } | undefined)?.method === method,
      10_000,
      `capability-fallback (${method}) of ${ep}`,
    );
  expect((await fallback('Read-Composite')).value.detail).toMatchObject({ reason: 'NOT_IMPLEMENTED' });
  expect((await fallback('Read')).value.detail).toMatchObject({
    reason: 'NOT_ACCEPTABLE',
    contentFormat: ContentFormat.SENML_CBOR,
    fallbackContentFormat: ContentFormat.SENML_JSON,
  });
  // One refusal of each kind: the second read went straight to SenML JSON.
  await records.waitFor((r) => r.topic === `${prefix}telemetry` && r.key === ep, 10_000, `telemetry of ${ep}`);
  expect(device.received(Method.FETCH)).toHaveLength(1);
  expect(device.received(Method.GET).map(acceptOf)).toEqual([
    ContentFormat.SENML_CBOR,
    ContentFormat.SENML_JSON,
    ContentFormat.SENML_JSON,
  ]);
  expect(await bridgeMetric(a, 'lwm2m_capability_fallbacks_total{operation="Read",capability="content-format"}')).toBe(
    1,
  );

  // The Update (new object links) reaches the other instance, which sets the device up again from
  // what Redis says it lacks: no FETCH, no SenML CBOR.
  const before = device.requests.length;
  expect(await device.update('</>;rt="oma.lwm2m";ct="112 110",</3/0>,</3303/0>', addressOf(b))).toBe(Code.CHANGED);
  await records.waitFor(
    (r) => r.topic === `${prefix}telemetry` && r.key === ep && JSON.stringify(r.value).includes('temperature'),
    20_000,
    `temperature of ${ep} after the Update`,
  );
  const after = device.requests.slice(before);
  expect(after.filter((r) => r.msg.code === Method.FETCH)).toEqual([]);
  expect(after.map(acceptOf)).toEqual(after.map(() => ContentFormat.SENML_JSON));
  expect(after.map((r) => `/${uriPath(r.msg).join('/')}`).sort()).toEqual(['/3/0/0', '/3/0/9', '/3303/0/5700']);
});

it('a 1.0 client announcing no ct: read in TLV; a 4.15 to a TLV Write gets the Write again in LwM2M JSON', async () => {
  const ep = `ffb-v10-${run}`;
  const writes: Array<number | undefined> = [];
  const script: Script = (r, d): Answer => {
    if (r.msg.code !== Method.PUT) return reader(new Map(), Code.METHOD_NOT_ALLOWED)(r, d);
    writes.push(contentFormatOf(r));
    return {
      kind: 'code',
      code: contentFormatOf(r) === ContentFormat.TLV ? Code.UNSUPPORTED_CONTENT_FORMAT : Code.CHANGED,
    };
  };
  const device = await registered(a, ep, '1.0', '</3/0>', script);
  await records.waitFor((r) => r.topic === `${prefix}attributes` && r.key === ep, 20_000, `attributes of ${ep}`);
  expect(device.received(Method.FETCH)).toEqual([]);
  expect(device.received(Method.GET).map(acceptOf)).toEqual([ContentFormat.TLV, ContentFormat.TLV]);

  const written = await rpc(a, ep, 'WriteReplace', { id: '/3/0/15', value: 'Europe/Paris' });
  expect(written.result).toBe('CHANGED');
  expect(writes).toEqual([ContentFormat.TLV, ContentFormat.JSON]);
  const again = await rpc(a, ep, 'WriteReplace', { id: '/3/0/15', value: 'Europe/Berlin' });
  expect(again.result).toBe('CHANGED');
  expect(writes).toEqual([ContentFormat.TLV, ContentFormat.JSON, ContentFormat.JSON]);
  const event = await records.waitFor(
    (r) => r.topic === `${prefix}events` && r.key === ep && r.value.type === 'capability-fallback',
    10_000,
    `capability-fallback of ${ep}`,
  );
  expect(event.value.detail).toMatchObject({
    method: 'Write',
    reason: 'UNSUPPORTED_CONTENT_FORMAT',
    contentFormat: ContentFormat.TLV,
    fallbackContentFormat: ContentFormat.JSON,
  });
});

it.each([
  ['4.05', Code.METHOD_NOT_ALLOWED, 'METHOD_NOT_ALLOWED'],
  ['5.01', Code.NOT_IMPLEMENTED, 'NOT_IMPLEMENTED'],
] as const)(
  'a 1.1 client answering %s to iPATCH: Write-Composite ends with it at once, the next request runs',
  async (what, code, result) => {
    const ep = `ffb-ipatch-${what.replace('.', '')}-${run}`;
    const base = reader(new Map(), code);
    const device = await registered(a, ep, '1.1', '</>;rt="oma.lwm2m";ct="110",</3/0>', (r, d) =>
      r.msg.code === Method.IPATCH ? { kind: 'code', code } : base(r, d),
    );
    await records.waitFor((r) => r.topic === `${prefix}attributes` && r.key === ep, 20_000, `attributes of ${ep}`);
    const started = Date.now();
    const refused = await rpc(a, ep, 'WriteComposite', { nodes: { '/3/0/14': '+01', '/3/0/15': 'Europe/Paris' } });
    expect(refused.result).toBe(result);
    const read = await rpc(a, ep, 'Read', { id: '/3/0/9' });
    expect(read.result).toBe('CONTENT');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(device.received(Method.IPATCH)).toHaveLength(1);
  },
);
