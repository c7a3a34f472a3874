/**
 * A client that registers as LwM2M 1.1 but lacks Read-Composite, as many embedded C clients do: it
 * acknowledges the FETCH with an empty ACK and never answers (or answers 4.05). Under a profile,
 * its attributes must still reach Kafka within seconds of registration (with the default settings), read path by path, with
 * one capability-fallback event. A scripted device on real UDP; the bridge on the real Redis and
 * Kafka; the records read back from Kafka.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/env';
import { Code, MessageType, Method, Opt } from '../../src/coap/message';
import { pathOptions, uintOption, uriPath } from '../../src/coap/options';
import { createLogger } from '../../src/observability/logger';
import { realInfraEnv } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords } from '../support/kafka-records';
import { ScriptedPeer, type Received } from '../support/scripted-peer';

jest.setTimeout(90_000);

const run = randomUUID().slice(0, 8);
const prefix = `cfb-${run}.`;
/** The bridge's default bound on a setup's unanswered composite operation (PROFILE_COMPOSITE_SEPARATE_TIMEOUT_MS). */
let SEPARATE_MS = 0;
const PROFILE = {
  name: 'fallback',
  observeAttr: {
    keyName: { '/3/0/0': 'manufacturer', '/3/0/9': 'battery' },
    attribute: ['/3/0/0'],
    telemetry: ['/3/0/9'],
    observe: [],
    attributeLwm2m: {},
  },
};
let app: App;
let records: KafkaRecords;
let profilesDir: string;
const devices: ScriptedPeer[] = [];

/** Answers GET of a Device resource with its text value, piggybacked. */
function answerGet(dev: ScriptedPeer, r: Received): void {
  const values: Record<string, string> = { '3/0/0': 'Acme', '3/0/9': '87' };
  const path = uriPath(r.msg).join('/');
  const value = values[path];
  dev.send(
    {
      type: MessageType.ACK,
      code: value === undefined ? Code.NOT_FOUND : Code.CONTENT,
      messageId: r.msg.messageId,
      token: r.msg.token,
      options: value === undefined ? [] : [uintOption(Opt.CONTENT_FORMAT, 0)],
      payload: Buffer.from(value ?? ''),
    },
    r.from,
  );
}

/** Registers a 1.1 client and serves its setup: FETCH as `onFetch` says, GET from the table. */
async function lackingClient(ep: string, onFetch: 'empty-ack' | 'method-not-allowed'): Promise<number> {
  const dev = await ScriptedPeer.open();
  devices.push(dev);
  const started = Date.now();
  dev.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId: 1,
      token: Buffer.from([1]),
      options: [...pathOptions(['rd'], [`ep=${ep}`, 'lwm2m=1.1', 'lt=300']), uintOption(Opt.CONTENT_FORMAT, 40)],
      payload: Buffer.from('</3/0>'),
    },
    { address: '127.0.0.1', port: app.coapPort },
  );
  expect((await dev.waitFor((r) => r.msg.messageId === 1)).msg.code).toBe(Code.CREATED);
  const fetch = await dev.waitFor((r) => r.msg.code === Method.FETCH, 10_000);
  if (onFetch === 'empty-ack')
    dev.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: fetch.msg.messageId }, fetch.from);
  else
    dev.send(
      { type: MessageType.ACK, code: Code.METHOD_NOT_ALLOWED, messageId: fetch.msg.messageId, token: fetch.msg.token },
      fetch.from,
    );
  for (let i = 0; i < 2; i++) answerGet(dev, await dev.waitFor((r) => r.msg.code === Method.GET, 10_000));
  return started;
}

beforeAll(async () => {
  profilesDir = mkdtempSync(join(tmpdir(), 'cfb-profiles-'));
  writeFileSync(join(profilesDir, 'fallback.json'), JSON.stringify(PROFILE));
  records = await KafkaRecords.follow(testKafkaBrokers(), [`${prefix}attributes`, `${prefix}events`]);
  // Defaults only: the general separate-response bound stays at its 10 s, the setup's own is shorter.
  const config = loadConfig(
    realInfraEnv(`cfb-${run}`, prefix, {
      PROFILES_DIR: profilesDir,
      PROFILE_RULES: JSON.stringify([{ pattern: 'cfb-*', profile: 'fallback' }]),
    }),
  );
  SEPARATE_MS = config.PROFILE_COMPOSITE_SEPARATE_TIMEOUT_MS;
  expect(SEPARATE_MS).toBeLessThan(config.COAP_SEPARATE_RESPONSE_TIMEOUT_MS);
  app = await startApp(config, createLogger('silent'));
}, 90_000);

afterAll(async () => {
  await Promise.all(devices.map((d) => d.close()));
  await app?.stop();
  await records?.close();
  rmSync(profilesDir, { recursive: true, force: true });
});

it.each([
  ['empty-ack', 'acknowledges Read-Composite and never answers', 'TIMEOUT'],
  ['method-not-allowed', 'answers Read-Composite with 4.05', 'METHOD_NOT_ALLOWED'],
] as const)(
  'a 1.1 client that %s (%s): attributes on Kafka within seconds, one capability-fallback event',
  async (behaviour, _what, reason) => {
    const ep = `cfb-${behaviour}-${run}`;
    const started = await lackingClient(ep, behaviour);
    const attributes = await records.waitFor(
      (r) => r.topic === `${prefix}attributes` && r.key === ep,
      20_000,
      `attributes of ${ep}`,
    );
    const elapsed = Date.now() - started;
    expect(attributes.value).toMatchObject({
      endpoint: ep,
      values: { manufacturer: 'Acme' },
      source: { op: 'read', paths: ['/3/0/0'] },
    });
    // Within the setup's short bound plus a little, with the defaults: neither the 10 s general
    // separate-response bound nor the 60 s request deadline.
    expect(elapsed).toBeLessThan(SEPARATE_MS + 2500);
    const fallback = await records.waitFor(
      (r) => r.topic === `${prefix}events` && r.key === ep && r.value.type === 'capability-fallback',
      10_000,
      `capability-fallback of ${ep}`,
    );
    expect(fallback.value.detail).toMatchObject({ method: 'Read-Composite', reason, paths: ['/3/0/0', '/3/0/9'] });
  },
);
