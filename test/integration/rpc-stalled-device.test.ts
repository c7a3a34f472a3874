/**
 * A device that acknowledges a request with an empty ACK and never sends the response (RFC 7252
 * §5.2.2) holds its RPC queue for COAP_SEPARATE_RESPONSE_TIMEOUT_MS, not for the request's whole
 * deadline: the stalled request ends TIMEOUT, the next one runs, and the late response, when it
 * comes, is acknowledged and dropped. A scripted device on real UDP; the bridge on the real Redis
 * and Kafka.
 */
import { randomUUID } from 'node:crypto';
import { startApp, type App } from '../../src/app';
import type { RpcResponseRecord } from '../../src/contract/rpc-records';
import { loadConfig } from '../../src/config/env';
import { Code, MessageType, Method, Opt } from '../../src/coap/message';
import { pathOptions, uintOption, uriPath } from '../../src/coap/options';
import { createLogger } from '../../src/observability/logger';
import { realInfraEnv } from '../support/bridge-process';
import { ScriptedPeer, type Received } from '../support/scripted-peer';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const EP = `stall-${run}`;
const SEPARATE_MS = 1000;
let app: App;
let device: ScriptedPeer;
let base: string;

async function rpc(path: string): Promise<RpcResponseRecord> {
  const res = await fetch(`${base}/devices/${EP}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
    // The RPC deadline is 30 s: a request that held the queue for it would fail the timings below.
    body: JSON.stringify({ method: 'Read', params: { id: path }, timeoutMs: 30_000 }),
  });
  return (await res.json()) as RpcResponseRecord;
}

const isGet = (path: string) => (r: Received) =>
  r.msg.code === Method.GET && uriPath(r.msg).join('/') === path.slice(1);

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not exposed`);
  return Number(line.split(' ')[1]);
}

beforeAll(async () => {
  app = await startApp(
    loadConfig(
      realInfraEnv(`stall-${run}`, `stall-${run}.`, { COAP_SEPARATE_RESPONSE_TIMEOUT_MS: String(SEPARATE_MS) }),
    ),
    createLogger('silent'),
  );
  base = `http://127.0.0.1:${app.httpPort}`;
  device = await ScriptedPeer.open();
  device.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId: 1,
      token: Buffer.from([1]),
      options: [...pathOptions(['rd'], [`ep=${EP}`, 'lwm2m=1.1', 'lt=300']), uintOption(Opt.CONTENT_FORMAT, 40)],
      payload: Buffer.from('</3/0>'),
    },
    { address: '127.0.0.1', port: app.coapPort },
  );
  const created = await device.waitFor((r) => r.msg.messageId === 1);
  expect(created.msg.code).toBe(Code.CREATED);
}, 60_000);

afterAll(async () => {
  await device?.close();
  await app?.stop();
});

it('a request acknowledged and never answered ends TIMEOUT after the separate-response bound; the next one runs', async () => {
  const started = Date.now();
  const stalled = rpc('/3/0/9');
  const get9 = await device.waitFor(isGet('/3/0/9'));
  device.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: get9.msg.messageId }, get9.from);
  const next = rpc('/3/0/0');

  // The stalled request ends within the bound (plus scheduling), far from its 30 s deadline.
  const first = await stalled;
  const stalledFor = Date.now() - started;
  expect(first).toMatchObject({ endpoint: EP, result: 'TIMEOUT' });
  expect(first.error).toMatch(/acknowledged the request but sent no response within 1000 ms/);
  expect(stalledFor).toBeGreaterThanOrEqual(SEPARATE_MS);
  expect(stalledFor).toBeLessThan(SEPARATE_MS + 4000);

  // The device's queue moves on: the next request reaches it and is answered.
  const get0 = await device.waitFor(isGet('/3/0/0'));
  device.send(
    {
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: get0.msg.messageId,
      token: get0.msg.token,
      options: [uintOption(Opt.CONTENT_FORMAT, 0)],
      payload: Buffer.from('Acme'),
    },
    get0.from,
  );
  expect(await next).toMatchObject({ result: 'CONTENT', value: { '/3/0/0': 'Acme' } });
  expect(Date.now() - started).toBeLessThan(SEPARATE_MS + 6000);
  expect(await metric('lwm2m_coap_separate_timeouts_total')).toBe(1);

  // The late response to the first request: acknowledged (empty ACK, its Message ID) and dropped.
  device.send(
    {
      type: MessageType.CON,
      code: Code.CONTENT,
      messageId: 0x4242,
      token: get9.msg.token,
      options: [uintOption(Opt.CONTENT_FORMAT, 0)],
      payload: Buffer.from('87'),
    },
    get9.from,
  );
  const ack = await device.waitFor((r) => r.msg.messageId === 0x4242);
  expect([ack.msg.type, ack.msg.code]).toEqual([MessageType.ACK, Code.EMPTY]);
  expect(await metric('lwm2m_coap_late_responses_total')).toBe(1);
});
