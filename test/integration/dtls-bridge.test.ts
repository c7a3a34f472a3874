/**
 * CoAPS in the bridge as deployed: a bridge process with real Redis and Kafka, device credentials
 * provisioned through the compacted devices topic. A Leshan client registers with PSK and is
 * driven by RPC from Kafka through its DTLS connection; a plaintext Register of a DTLS-provisioned
 * endpoint is refused; a credential added later works without restart and a revoked one stops
 * new sessions; no key ever appears in the logs, even at debug level.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { bridgeMetric, realInfraEnv, startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { runCoapClient } from '../support/coap-cli';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords, createCompactedTopics } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { until } from '../support/until';

jest.setTimeout(120_000);

const run = randomUUID().slice(0, 8);
const prefix = `dtlsb-${run}.`;
const topics = {
  devices: `${prefix}devices`,
  profiles: `${prefix}profiles`,
  requests: `${prefix}rpc.requests`,
  responses: `${prefix}rpc.responses`,
};
const KEY_1 = 'bridge-secret-01';
const KEY_2 = 'bridge-secret-02';
const hex = (s: string): string => Buffer.from(s).toString('hex');

let kafka: Kafka;
let producer: Producer;
let records: KafkaRecords;
let bridge: BridgeProcess;
let client: LeshanClientHandle | undefined;

async function provision(endpoint: string, credentials: Record<string, string> | null): Promise<void> {
  await producer.send({
    topic: topics.devices,
    messages: [{ key: endpoint, value: credentials === null ? null : JSON.stringify({ endpoint, credentials }) }],
  });
}

/** coap-client-openssl's Register over CoAPS: the response line, or what it printed when there was none. */
async function registerWithLibcoap(endpoint: string, identity: string, key: string): Promise<string> {
  const url = `coaps://127.0.0.1:${bridge.coapsPort}/rd?ep=${endpoint}&lt=60&b=U`;
  const r = await runCoapClient(
    ['-m', 'post', '-t', '40', '-e', '</3/0>', '-u', identity, '-k', key, '-v', '6', '-B', '3', url],
    { binary: 'coap-client-openssl', timeoutMs: 20_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  return (
    out.split('\n').find((l) => /^v:1 t:(ACK|CON|NON) c:[2-5]\.\d\d/.test(l.trim())) ??
    `no response: ${out.slice(-300)}`
  );
}

beforeAll(async () => {
  kafka = new Kafka({ clientId: `dtlsb-${run}`, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
  await createCompactedTopics(kafka, [topics.devices, topics.profiles]);
  producer = kafka.producer();
  await producer.connect();
  await provision('dtls-b-1', { mode: 'psk', identity: 'id-b-1', key: hex(KEY_1) });
  records = await KafkaRecords.follow(testKafkaBrokers(), [topics.responses]);
  bridge = await startBridgeProcess(
    realInfraEnv(`dtlsb-${run}`, prefix, {
      LOG_LEVEL: 'debug',
      DTLS_SHARED_SECRET: 'a-shared-cookie-secret-for-tests',
    }),
  );
});

afterAll(async () => {
  await client?.stop();
  await bridge?.terminate();
  await records?.close();
  await producer?.disconnect();
});

it('a provisioned Leshan client registers with PSK and is driven by RPC from Kafka over its DTLS connection', async () => {
  expect(bridge.coapsPort).toBeGreaterThan(0);
  client = await startLeshanClient({
    serverPort: bridge.coapsPort as number,
    endpoint: 'dtls-b-1',
    psk: { identity: 'id-b-1', keyHex: hex(KEY_1) },
    lifetime: 300,
  });
  await client.waitFor(/^REGISTERED /, 30_000);
  const view = (await (
    await fetch(`http://127.0.0.1:${bridge.httpPort}/devices/dtls-b-1`, { headers: { authorization: 'Bearer secret' } })
  ).json()) as { registration: { security?: unknown } };
  expect(view.registration.security).toEqual({ mode: 'psk', name: 'id-b-1' });
  const id = `dtls-rpc-${randomUUID()}`;
  await producer.send({
    topic: topics.requests,
    messages: [
      {
        key: 'dtls-b-1',
        value: JSON.stringify({ id, endpoint: 'dtls-b-1', method: 'Read', params: { id: '/3/0/9' } }),
      },
    ],
  });
  const res = await records.waitFor((r) => r.value.id === id, 30_000, `response ${id}`);
  expect(res.value).toMatchObject({ result: 'CONTENT', value: { '/3/0/9': 87 } });
  expect(await bridgeMetric(bridge, 'lwm2m_dtls_handshakes_total')).toBeGreaterThanOrEqual(1);
});

it('refuses a plaintext Register of an endpoint provisioned for PSK (4.03), counted', async () => {
  const r = await runCoapClient(
    [
      '-m',
      'post',
      '-t',
      '40',
      '-e',
      '</3/0>',
      '-v',
      '6',
      '-B',
      '3',
      `coap://127.0.0.1:${bridge.coapPort}/rd?ep=dtls-b-1&lt=60`,
    ],
    { timeoutMs: 20_000 },
  );
  expect(`${r.stdout}\n${r.stderr}`).toMatch(/c:4\.03/);
  expect(
    await bridgeMetric(bridge, 'lwm2m_rejected_requests_total{operation="/rd",code="4.03"}'),
  ).toBeGreaterThanOrEqual(1);
});

it('takes a credential provisioned after start without restart, and a revoked one stops new sessions', async () => {
  await provision('dtls-b-2', { mode: 'psk', identity: 'id-b-2', key: hex(KEY_2) });
  const created = await until(
    'the new credential works',
    async () => {
      const line = await registerWithLibcoap('dtls-b-2', 'id-b-2', KEY_2);
      return /c:2\.01/.test(line) ? line : undefined;
    },
    20_000,
    200,
  );
  expect(created).toMatch(/c:2\.01/);
  await provision('dtls-b-2', null);
  const refused = await until(
    'the revoked credential is refused',
    async () => {
      const line = await registerWithLibcoap('dtls-b-2', 'id-b-2', KEY_2);
      return /c:2\.01/.test(line) ? undefined : line;
    },
    20_000,
    200,
  );
  expect(refused).not.toMatch(/c:2\.01/);
  expect(
    await bridgeMetric(bridge, 'lwm2m_dtls_handshake_failures_total{alert="unknown_psk_identity"}'),
  ).toBeGreaterThanOrEqual(1);
});

it('drops malformed, oversized and unauthentic records on the CoAPS port, counts them, and keeps serving', async () => {
  const { createSocket } = await import('node:dgram');
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  const datagrams = [
    Buffer.from('not dtls at all'),
    Buffer.from('16fefd000000000000000000ff', 'hex'), // a handshake record claiming 255 bytes, carrying none
    Buffer.concat([Buffer.from('17fefd00010000000000014801', 'hex'), Buffer.alloc(0x4801)]), // over 2^14 + 2048
    Buffer.concat([Buffer.from('17fefd00010000000000070020', 'hex'), Buffer.alloc(32, 7)]), // epoch 1, no connection
  ];
  const before = await bridgeMetric(bridge, 'lwm2m_dtls_records_dropped_total');
  for (const d of datagrams) sock.send(d, bridge.coapsPort as number, '127.0.0.1');
  await until(
    'the drops are counted',
    async () =>
      (await bridgeMetric(bridge, 'lwm2m_dtls_records_dropped_total')) >= before + datagrams.length ? true : undefined,
    20_000,
    200,
  );
  sock.close();
  expect(await bridgeMetric(bridge, 'lwm2m_dtls_records_dropped_total{kind="malformed"}')).toBeGreaterThanOrEqual(3);
  // Still serving: a registered device still answers an RPC over DTLS.
  const id = `dtls-rpc-${randomUUID()}`;
  await producer.send({
    topic: topics.requests,
    messages: [
      {
        key: 'dtls-b-1',
        value: JSON.stringify({ id, endpoint: 'dtls-b-1', method: 'Read', params: { id: '/3/0/9' } }),
      },
    ],
  });
  expect((await records.waitFor((r) => r.value.id === id, 30_000, `response ${id}`)).value).toMatchObject({
    result: 'CONTENT',
  });
});

it('never logs a key, even at debug level', () => {
  const logs = bridge.lines.join('\n');
  expect(logs).toMatch(/dtls handshake done/);
  for (const secret of [KEY_1, KEY_2, hex(KEY_1), hex(KEY_2)]) expect(logs).not.toContain(secret);
});
