/**
 * DTLS across instances, as deployed: two bridge processes sharing a real Redis and Kafka and one
 * DTLS_SHARED_SECRET, behind a UDP balancer with client affinity, and Leshan clients with PSK
 * (one without connection ID, one with). The handshakes happen on the first instance; the
 * balancer then moves the devices to the second, which continues their DTLS connections from
 * Redis without a handshake, also once the first instance is killed; downlinks go out through
 * the continued connection; no device registers again. A client that neither uses a CID nor
 * resumes makes a new handshake on another instance, and its registration stays as it was.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { bridgeMetric, realInfraEnv, startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { createCompactedTopics } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { UdpBalancer } from '../support/udp-balancer';
import { runCoapClient } from '../support/coap-cli';

jest.setTimeout(120_000);

const run = randomUUID().slice(0, 8);
const prefix = `dtlsc-${run}.`;
const KEYS = {
  'dtlsc-1': '636c75737465722d6b65792d31',
  'dtlsc-2': '636c75737465722d6b65792d32',
  'dtlsc-3': '636c75737465722d6b65792d33',
} as const;

let producer: Producer;
let a: BridgeProcess | undefined;
let b: BridgeProcess | undefined;
let c: BridgeProcess | undefined;
let lb: UdpBalancer;
const clients: LeshanClientHandle[] = [];

const env = (instance: string): Record<string, string> =>
  realInfraEnv(`dtlsc-${run}`, prefix, {
    INSTANCE_ID: instance,
    INSTANCE_HEARTBEAT_MS: '300',
    DTLS_SHARED_SECRET: `cluster-secret-${run}`,
  });

beforeAll(async () => {
  const kafka = new Kafka({ clientId: `dtlsc-${run}`, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
  await createCompactedTopics(kafka, [`${prefix}devices`, `${prefix}profiles`]);
  producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: `${prefix}devices`,
    messages: Object.entries(KEYS).map(([endpoint, key]) => ({
      key: endpoint,
      value: JSON.stringify({ endpoint, credentials: { mode: 'psk', identity: `id-${endpoint}`, key } }),
    })),
  });
  a = await startBridgeProcess(env(`dtlsc-a-${run}`));
  b = await startBridgeProcess(env(`dtlsc-b-${run}`));
  lb = await UdpBalancer.start(a.coapsPort as number);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await lb?.close();
  await a?.kill();
  await b?.terminate();
  await c?.terminate();
  await producer?.disconnect();
});

it('handshakes on one instance; the other continues the DTLS connections from Redis, also after the first is killed', async () => {
  const [one, two] = await Promise.all(
    (['dtlsc-1', 'dtlsc-2'] as const).map(async (endpoint, i) => {
      const c = await startLeshanClient({
        serverPort: lb.port,
        endpoint,
        lifetime: 300,
        psk: { identity: `id-${endpoint}`, keyHex: KEYS[endpoint] },
        ...(i === 1 ? { cidLength: 4 } : {}),
      });
      clients.push(c);
      await c.waitFor(/^REGISTERED /, 30_000);
      return c;
    }),
  );
  const first = a as BridgeProcess;
  const second = b as BridgeProcess;
  expect(await bridgeMetric(first, 'lwm2m_dtls_handshakes_total')).toBe(2);

  // Moved while the first instance still runs: the next Update reaches the second one.
  lb.switchTo(second.coapsPort as number);
  one?.send('update');
  await one?.waitFor(/^UPDATED$/, 30_000);
  expect(await bridgeMetric(second, 'lwm2m_dtls_connections_continued_total')).toBe(1);
  // A downlink from the second instance goes through the continued connection.
  const read = await fetch(`http://127.0.0.1:${second.httpPort}/devices/dtlsc-1/rpc`, {
    method: 'POST',
    headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'Read', params: { id: '/3/0/9' }, timeoutMs: 20_000 }),
  });
  expect(await read.json()).toMatchObject({ result: 'CONTENT', value: { '/3/0/9': 87 } });

  // The instance of the handshakes dies; the device with a connection ID goes on through the other.
  await first.kill();
  a = undefined;
  two?.send('update');
  await two?.waitFor(/^UPDATED$/, 30_000);
  expect(await bridgeMetric(second, 'lwm2m_dtls_connections_continued_total')).toBe(2);
  expect(await bridgeMetric(second, 'lwm2m_dtls_handshakes_total')).toBe(0);
  for (const c of [one, two]) expect(c?.lines.filter((l) => l.startsWith('REGISTERED '))).toHaveLength(1);
});

it('without CID or resumption, a new handshake on another instance works, and the registration stays as it was', async () => {
  const second = b as BridgeProcess;
  c = await startBridgeProcess(env(`dtlsc-c-${run}`));
  const third = c;
  const psk = ['-u', 'id-dtlsc-3', '-k', Buffer.from(KEYS['dtlsc-3'], 'hex').toString('latin1')];
  const created = await runCoapClient(
    [
      '-m',
      'post',
      '-t',
      '40',
      '-e',
      '</3/0>',
      ...psk,
      '-v',
      '6',
      '-B',
      '5',
      `coaps://127.0.0.1:${second.coapsPort}/rd?ep=dtlsc-3&lt=300&b=U`,
    ],
    { binary: 'coap-client-openssl', timeoutMs: 20_000 },
  );
  const id = /Location-Path:rd, Location-Path:([^ ,\]]+)/.exec(`${created.stdout}\n${created.stderr}`)?.[1];
  expect(id).toBeDefined();
  // Each coap-client run is a fresh full handshake: this one on the third instance.
  const updated = await runCoapClient(
    ['-m', 'post', ...psk, '-v', '6', '-B', '5', `coaps://127.0.0.1:${third.coapsPort}/rd/${id}?lt=600`],
    { binary: 'coap-client-openssl', timeoutMs: 20_000 },
  );
  expect(`${updated.stdout}\n${updated.stderr}`).toMatch(/c:2\.04/);
  expect(await bridgeMetric(third, 'lwm2m_dtls_handshakes_total')).toBe(1);
  const view = (await (
    await fetch(`http://127.0.0.1:${third.httpPort}/devices/dtlsc-3`, { headers: { authorization: 'Bearer secret' } })
  ).json()) as { registration: { id: string; lifetime: number; security?: unknown } };
  expect(view.registration).toMatchObject({ id, lifetime: 600, security: { mode: 'psk', name: 'id-dtlsc-3' } });
});
