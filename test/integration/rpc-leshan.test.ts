/**
 * RPC against a real client nobody here wrote (Leshan's, in its own JVM), through the bridge as
 * an operator runs it in embedded mode: every method over the HTTP API (POST /devices/{ep}/rpc),
 * by id and by profile key, and requests as bus records answered on the responses topic.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../../src/app';
import type { RpcResponseRecord } from '../../src/contract/rpc-records';
import { loadConfig } from '../../src/config/env';
import { createLogger } from '../../src/observability/logger';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';

const EP = 'rpc-leshan-1';
let app: App;
let client: LeshanClientHandle;
let base: string;
let profilesDir: string;

const PROFILE = {
  name: 'rpc-test',
  observeAttr: {
    keyName: {
      '/3_1.2/0/9': 'batteryLevel',
      '/3_1.2/0/15': 'timezone',
      '/3303_1.1/0/5700': 'temperature',
      '/3_1.2/0/4': 'reboot',
    },
    observe: [],
    attribute: [],
    telemetry: ['/3303_1.1/0/5700'],
    attributeLwm2m: {},
  },
  observeStrategy: 'SINGLE',
};

async function rpc(
  method: string,
  params: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<RpcResponseRecord & { status: number }> {
  const res = await fetch(`${base}/devices/${EP}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method, params, timeoutMs: 20_000, ...extra }),
  });
  return { ...((await res.json()) as RpcResponseRecord), status: res.status };
}

beforeAll(async () => {
  profilesDir = mkdtempSync(join(tmpdir(), 'rpc-profiles-'));
  writeFileSync(join(profilesDir, 'rpc-test.json'), JSON.stringify(PROFILE));
  app = await startApp(
    loadConfig({
      COAP_HOST: '127.0.0.1',
      COAP_PORT: '0',
      COAPS_PORT: '0',
      HTTP_PORT: '0',
      PROFILES_DIR: profilesDir,
      PROFILE_RULES: JSON.stringify([{ pattern: 'rpc-*', profile: 'rpc-test' }]),
      LWM2M_REQUEST_TIMEOUT_MS: '15000',
    }),
    createLogger('silent'),
  );
  base = `http://127.0.0.1:${app.httpPort}`;
  client = await startLeshanClient({ serverPort: app.coapPort, endpoint: EP, lifetime: 300, tickMs: 200 });
  await client.waitFor(/^REGISTERED /, 30_000);
}, 60_000);

afterAll(async () => {
  await client?.stop();
  await app?.stop();
  rmSync(profilesDir, { recursive: true, force: true });
});

describe('RPC over the HTTP API against Leshan', () => {
  it('Read by id and by key gives typed values keyed by path', async () => {
    const byId = await rpc('Read', { id: '/3/0/9' });
    expect(byId).toMatchObject({
      status: 200,
      endpoint: EP,
      method: 'Read',
      result: 'CONTENT',
      value: { '/3/0/9': 87 },
      types: { '/3/0/9': 'INTEGER' },
    });
    const byKey = await rpc('Read', { key: 'batteryLevel' });
    expect(byKey).toMatchObject({ result: 'CONTENT', value: { '/3/0/9': 87 } });
    const inst = await rpc('Read', { id: '/3/0' }, { params: { id: '/3/0', contentFormat: 'SENML_JSON' } });
    expect(inst.result).toBe('CONTENT');
    expect((inst.value as Record<string, Record<string, unknown>>)['/3/0']?.['0']).toBe('Leshan Test Devices');
  });

  it('refuses a versioned id that names another object version than the device registered', async () => {
    const r = await rpc('Read', { id: '/3_1.0/0/9' });
    expect(r).toMatchObject({ status: 200, result: 'BAD_REQUEST' });
    expect(r.error).toMatch(/params\.id: .*version 1\.0 of object 3, the device registered version 1\.2/);
  });

  it('ReadComposite by ids and by keys', async () => {
    const r = await rpc('ReadComposite', { ids: ['/3/0/9', '/3303/0/5700'] });
    expect(r.result).toBe('CONTENT');
    expect(r.value?.['/3/0/9']).toBe(87);
    expect(typeof r.value?.['/3303/0/5700']).toBe('number');
    const k = await rpc('ReadComposite', { keys: ['batteryLevel', 'temperature'] });
    expect(Object.keys(k.value ?? {}).sort()).toEqual(['/3/0/9', '/3303/0/5700']);
  });

  it('Discover and DiscoverAll', async () => {
    const d = await rpc('Discover', { id: '/3/0' });
    expect(d.result).toBe('CONTENT');
    expect(d.links?.map((l) => l.path)).toEqual(expect.arrayContaining(['/3/0', '/3/0/9']));
    const all = await rpc('DiscoverAll');
    expect(all.result).toBe('CONTENT');
    expect(all.links).toEqual(
      expect.arrayContaining([{ path: '/3', attributes: { ver: '1.2' } }, { path: '/3303/0' }]),
    );
  });

  it('WriteReplace by key, WriteUpdate on an instance, WriteComposite, each read back', async () => {
    expect((await rpc('WriteReplace', { key: 'timezone', value: 'Europe/Paris' })).result).toBe('CHANGED');
    await client.waitFor(/^WRITTEN \/3\/0\/15 Europe\/Paris/);
    expect((await rpc('Read', { id: '/3/0/15' })).value).toEqual({ '/3/0/15': 'Europe/Paris' });
    expect((await rpc('WriteUpdate', { id: '/3/0', value: { '14': '+03:00', '15': 'Europe/Moscow' } })).result).toBe(
      'CHANGED',
    );
    expect((await rpc('Read', { id: '/3/0/14' })).value).toEqual({ '/3/0/14': '+03:00' });
    expect((await rpc('WriteComposite', { nodes: { '/3/0/14': '+04:00', timezone: 'Asia/Dubai' } })).result).toBe(
      'CHANGED',
    );
    expect((await rpc('ReadComposite', { ids: ['/3/0/14', '/3/0/15'] })).value).toEqual({
      '/3/0/14': '+04:00',
      '/3/0/15': 'Asia/Dubai',
    });
  });

  it('a value of the wrong type is refused before anything is sent, naming the path', async () => {
    const r = await rpc('WriteReplace', { id: '/3/0/13', value: 'not a time' });
    expect(r.result).toBe('BAD_REQUEST');
    expect(r.error).toMatch(/^\/3\/0\/13: expected an ISO 8601 time/);
  });

  it('WriteAttributes, then Discover shows them', async () => {
    expect((await rpc('WriteAttributes', { id: '/3303/0/5700', attributes: { pmin: 1, pmax: 30 } })).result).toBe(
      'CHANGED',
    );
    const d = await rpc('Discover', { id: '/3303/0/5700' });
    expect(d.links?.[0]).toMatchObject({ path: '/3303/0/5700', attributes: { pmin: 1, pmax: 30 } });
  });

  it('Execute by key and with arguments', async () => {
    expect((await rpc('Execute', { key: 'reboot' })).result).toBe('CHANGED');
    expect((await rpc('Execute', { id: '/3/0/4', value: "0='now',1" })).result).toBe('CHANGED');
    expect((await rpc('Execute', { id: '/3/0/9' })).result).toBe('METHOD_NOT_ALLOWED');
  });

  it('Create then Delete an instance', async () => {
    const c = await rpc('Create', { id: '/3303/7', value: { '5700': 21.5, '5701': 'Cel' } });
    expect(c.result).toBe('CREATED');
    expect((await rpc('Read', { id: '/3303/7/5701' })).value).toEqual({ '/3303/7/5701': 'Cel' });
    expect((await rpc('Delete', { id: '/3303/7' })).result).toBe('DELETED');
    expect((await rpc('Read', { id: '/3303/7' })).result).toBe('NOT_FOUND');
  });

  it('Observe, ObserveComposite, ObserveReadAll, ObserveCancel, ObserveCompositeCancel, ObserveCancelAll', async () => {
    const o = await rpc('Observe', { key: 'temperature' });
    expect(o).toMatchObject({ result: 'CONTENT', types: { '/3303/0/5700': 'FLOAT' } });
    const oc = await rpc('ObserveComposite', { ids: ['/3/0/9', '/3/0/10'] });
    expect(oc.result).toBe('CONTENT');
    expect(Object.keys(oc.value ?? {}).sort()).toEqual(['/3/0/10', '/3/0/9']);
    const all = await rpc('ObserveReadAll');
    expect(all.observations?.map((x) => `${x.kind}:${x.paths.join(',')}`).sort()).toEqual([
      'composite:/3/0/9,/3/0/10',
      'single:/3303/0/5700',
    ]);
    expect(await rpc('ObserveCancel', { id: '/3303/0/5700' })).toMatchObject({ result: 'CONTENT', count: 1 });
    expect(await rpc('ObserveCancel', { id: '/3303/0/5700' })).toMatchObject({ result: 'NOT_FOUND', count: 0 });
    expect(await rpc('ObserveCompositeCancel', { ids: ['/3/0/10', '/3/0/9'] })).toMatchObject({
      result: 'CONTENT',
      count: 1,
    });
    await rpc('Observe', { id: '/3/0/9' });
    await rpc('Observe', { id: '/3/0/10' });
    expect(await rpc('ObserveCancelAll')).toMatchObject({ result: 'CONTENT', count: 2 });
    expect((await rpc('ObserveReadAll')).observations).toEqual([]);
  });

  it('bad requests get 400 naming the field; an unknown endpoint gets NOT_REGISTERED', async () => {
    const noId = await rpc('Read', {});
    expect(noId).toMatchObject({ status: 400, result: 'BAD_REQUEST' });
    expect(noId.error).toMatch(/^params\.id: Read needs "id"/);
    const badMethod = await rpc('Reboot', { id: '/3/0/4' });
    expect(badMethod.status).toBe(400);
    expect(badMethod.error).toMatch(/^method: "Reboot" is not one of Read, /);
    const unknownKey = await rpc('Read', { key: 'nope' });
    expect(unknownKey).toMatchObject({
      result: 'BAD_REQUEST',
      error: 'params.key: "nope" is not a key of profile rpc-test',
    });
    const unknownField = await rpc('Read', { id: '/3/0/9', path: '/3/0/9' });
    expect(unknownField.error).toBe('params: unknown field(s) path');
    const res = await fetch(`${base}/devices/nobody/rpc`, {
      method: 'POST',
      body: JSON.stringify({ method: 'Read', params: { id: '/3/0/9' } }),
    });
    expect(await res.json()).toMatchObject({ endpoint: 'nobody', result: 'NOT_REGISTERED' });
    const notJson = await fetch(`${base}/devices/${EP}/rpc`, { method: 'POST', body: '{"method":' });
    expect(notJson.status).toBe(400);
  });

  it('a repeated request id is not run twice', async () => {
    const first = await rpc('Read', { id: '/3/0/9' }, { id: 'same-id-1' });
    expect(first.result).toBe('CONTENT');
    const again = await rpc('Read', { id: '/3/0/9' }, { id: 'same-id-1' });
    expect(again.status).toBe(409);
  });

  it('a request whose deadline has passed is answered TIMEOUT without reaching the device', async () => {
    const r = await rpc('Read', { id: '/3/0/9' }, { expiresAt: Date.now() - 1000 });
    expect(r.result).toBe('TIMEOUT');
  });

  it('shows the device with its observations and held requests', async () => {
    const res = await fetch(`${base}/devices/${EP}`);
    const body = (await res.json()) as { registration: { endpoint: string }; observations: unknown[]; rpc: unknown[] };
    expect(body.registration.endpoint).toBe(EP);
    expect(body.rpc).toEqual([]);
    const filtered = (await (await fetch(`${base}/devices?endpoint=rpc-*&queueMode=false`)).json()) as {
      items: Array<{ endpoint: string }>;
    };
    expect(filtered.items.map((d) => d.endpoint)).toEqual([EP]);
    const none = (await (await fetch(`${base}/devices?endpoint=other-*`)).json()) as { items: unknown[] };
    expect(none.items).toEqual([]);
  });
});
