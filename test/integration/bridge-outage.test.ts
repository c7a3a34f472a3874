/**
 * Kafka or Redis stopped during a run (DESIGN invariant 3): no crash, 5.03 with Max-Age to Send
 * and Register while the dependency is away, /readyz not ready, recovery by itself, and no value
 * lost that the device was told was accepted (2.04).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/env';
import { Code, MessageType, Method, Opt } from '../../src/coap/message';
import { getUintOption, pathOptions, uintOption } from '../../src/coap/options';
import { createLogger } from '../../src/observability/logger';
import { startKafkaBroker, type KafkaBrokerHandle } from '../support/kafka-broker';
import { startRedisServer, type RedisHandle } from '../support/redis-server';
import { ScriptedPeer, type Received } from '../support/scripted-peer';

jest.setTimeout(180_000);

let kafka: KafkaBrokerHandle;
let redis: RedisHandle;
let app: App;
let dev: ScriptedPeer;
let mid = 1;
const prefix = `outage-${randomUUID().slice(0, 8)}.`;

beforeAll(async () => {
  [kafka, redis] = await Promise.all([startKafkaBroker(), startRedisServer()]);
  const config = loadConfig({
    COAP_HOST: '127.0.0.1',
    COAP_PORT: '0',
    COAPS_PORT: '0',
    HTTP_PORT: '0',
    REDIS_URL: redis.url,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_UNAVAILABLE_AFTER_MS: '1000',
    SEND_ACK_TIMEOUT_MS: '1500',
    RETRY_AFTER_S: '9',
    REDIS_CACHE_TTL_MS: '0',
  });
  app = await startApp(config, createLogger('silent'));
  dev = await ScriptedPeer.open();
});

afterAll(async () => {
  await dev?.close();
  await app?.stop();
  await Promise.all([kafka?.stop(), redis?.stop()]);
});

const to = (): { address: string; port: number } => ({ address: '127.0.0.1', port: app.coapPort });

/** A CON request; a late answer comes as empty ACK + separate CON response (RFC 7252 §5.2.2), which is ACKed. */
async function post(
  path: string[],
  query: string[],
  payload: string,
  format: number,
  timeoutMs = 15_000,
): Promise<Received> {
  const messageId = mid++;
  const token = Buffer.from([messageId >> 8, messageId & 0xff]);
  dev.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId,
      token,
      options: [...pathOptions(path, query), uintOption(Opt.CONTENT_FORMAT, format)],
      payload: Buffer.from(payload),
    },
    to(),
  );
  const first = await dev.waitFor((r) => r.msg.messageId === messageId && r.msg.type === MessageType.ACK, timeoutMs);
  if (first.msg.code !== Code.EMPTY) return first;
  const separate = await dev.waitFor((r) => r.msg.type === MessageType.CON && r.msg.token.equals(token), timeoutMs);
  dev.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: separate.msg.messageId }, to());
  return separate;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const register = (ep: string): Promise<Received> => post(['rd'], [`ep=${ep}`, 'lwm2m=1.1'], '</3303/0>', 40);
const send = (v: number): Promise<Received> => post(['dp'], [], JSON.stringify([{ bn: '/3303/0/5700', v }]), 110);
const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${app.httpPort}/readyz`)).status;
/** The load balancer's probe: the instance keeps its traffic (and answers 5.03) while a shared dependency is away. */
const serving = async (): Promise<number> => (await fetch(`http://127.0.0.1:${app.httpPort}/readyz/serving`)).status;

async function telemetryValues(): Promise<number[]> {
  const client = new Kafka({ clientId: 'outage-reader', brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const consumer = client.consumer({ groupId: `r-${randomUUID()}` });
  const admin = client.admin();
  await admin.connect();
  const high = (await admin.fetchTopicOffsets(`${prefix}telemetry`)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  const values: number[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: `${prefix}telemetry`, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const rec = JSON.parse(message.value?.toString() ?? '{}') as { values?: Record<string, unknown> };
        for (const v of Object.values(rec.values ?? {})) if (typeof v === 'number') values.push(v);
        if (++seen >= high) resolve();
      },
    });
    if (high === 0) resolve();
  });
  await consumer.disconnect();
  return values;
}

it('Kafka down: Send and Register get 5.03 + Max-Age, readiness drops, then everything recovers and nothing acknowledged is lost', async () => {
  expect((await register('out-1')).msg.code).toBe(Code.CREATED);
  const acknowledged: number[] = [];
  for (let v = 1; v <= 5; v++) if ((await send(v)).msg.code === Code.CHANGED) acknowledged.push(v);
  expect(acknowledged).toEqual([1, 2, 3, 4, 5]);
  expect(await readyz()).toBe(200);

  await kafka.down();
  const during = await send(100);
  expect(during.msg.code).toBe(Code.SERVICE_UNAVAILABLE);
  expect(getUintOption(during.msg, Opt.MAX_AGE)).toBe(9);
  expect(await readyz()).toBe(503);
  expect(await serving()).toBe(200);
  expect((await register('out-2')).msg.code).toBe(Code.SERVICE_UNAVAILABLE);

  await kafka.up();
  // Recovery is automatic; poll (bounded) until a Send is accepted again.
  let recovered: Received | undefined;
  const deadline = Date.now() + 60_000;
  for (let i = 0; Date.now() < deadline && recovered?.msg.code !== Code.CHANGED; i++) {
    recovered = await send(200 + i);
    if (recovered.msg.code === Code.CHANGED) acknowledged.push(200 + i);
    else await pause(200); // bounded polling: the device would wait Max-Age
  }
  expect(recovered?.msg.code).toBe(Code.CHANGED);
  expect(await readyz()).toBe(200);
  expect((await register('out-2')).msg.code).toBe(Code.CREATED);
  const delivered = await telemetryValues();
  for (const v of acknowledged) expect(delivered).toContain(v);
});

it('Redis down: requests get 5.03 + Max-Age, readiness drops, the process lives, and it recovers', async () => {
  await redis.down();
  const during = await register('out-3');
  expect(during.msg.code).toBe(Code.SERVICE_UNAVAILABLE);
  expect(getUintOption(during.msg, Opt.MAX_AGE)).toBe(9);
  expect(await readyz()).toBe(503);
  expect(await serving()).toBe(200);
  await redis.up();
  let again: Received | undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && again?.msg.code !== Code.CREATED) {
    again = await register('out-3');
    if (again.msg.code !== Code.CREATED) await pause(200);
  }
  expect(again?.msg.code).toBe(Code.CREATED);
  expect(await readyz()).toBe(200);
});
