/**
 * RPC across bridge instances, as deployed: two bridge processes sharing a real Redis and a real
 * Kafka, a UDP load balancer with client affinity in front of them (test/support/udp-balancer),
 * and Eclipse Leshan demo clients behind it. Requests go in on the requests topic, responses and
 * progress events come out on the responses and events topics (docs/rpc-routing.md).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { bridgeMetric, realInfraEnv, startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords, waitForStableGroup, type CollectedRecord } from '../support/kafka-records';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { UdpBalancer } from '../support/udp-balancer';

jest.setTimeout(120_000);

const run = randomUUID().slice(0, 8);
const prefix = `rpcc-${run}.`;
const topics = { requests: `${prefix}rpc.requests`, responses: `${prefix}rpc.responses`, events: `${prefix}events` };
const PARTITIONS = 4;
const GROUP = `rpcc-${run}.rpc`;
const AWAKE_MS = 1500;

let kafka: Kafka;
let producer: Producer;
let records: KafkaRecords;
let lb: UdpBalancer;
let a: BridgeProcess | undefined;
let b: BridgeProcess | undefined;
const clients: LeshanClientHandle[] = [];
let profilesDir: string;
/** Keys only the battery level and drops the rest: an RPC observation of anything else gives notification events. */
const PROFILE = {
  name: 'cluster-drop',
  updatedAt: '2026-11-21T12:00:00Z',
  unmappedPaths: 'drop',
  observeAttr: { keyName: { '/3/0/9': 'battery' }, telemetry: ['/3/0/9'] },
};

const env = (instance: string): Record<string, string> =>
  realInfraEnv(`rpcc-${run}`, prefix, {
    INSTANCE_ID: instance,
    KAFKA_RPC_GROUP_ID: GROUP,
    KAFKA_RPC_SESSION_TIMEOUT_MS: '6000',
    INSTANCE_HEARTBEAT_MS: '300',
    LWM2M_QUEUE_AWAKE_MS: String(AWAKE_MS),
    RPC_DEFAULT_TIMEOUT_MS: '30000',
    PROFILES_DIR: profilesDir,
    PROFILE_RULES: JSON.stringify([{ pattern: 'cl-*', profile: PROFILE.name }]),
  });

async function waitForGroupMembers(n: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitForStableGroup(admin, GROUP, n);
  } finally {
    await admin.disconnect();
  }
}

async function request(
  endpoint: string,
  method: string,
  params: Record<string, unknown>,
  partition?: number,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const id = `req-${randomUUID()}`;
  await producer.send({
    topic: topics.requests,
    messages: [
      {
        key: endpoint,
        value: JSON.stringify({ id, endpoint, method, params, ...extra }),
        ...(partition !== undefined ? { partition } : {}),
      },
    ],
  });
  return id;
}

const responseOf = (id: string, timeoutMs = 30_000): Promise<CollectedRecord> =>
  records.waitFor((r) => r.topic === topics.responses && r.value.id === id, timeoutMs, `response ${id}`);
const responsesOf = (id: string): CollectedRecord[] =>
  records.records.filter((r) => r.topic === topics.responses && r.value.id === id);

async function leshan(endpoint: string, queueMode = false, tickMs = 60_000): Promise<LeshanClientHandle> {
  const c = await startLeshanClient({ serverPort: lb.port, endpoint, lifetime: 300, queueMode, tickMs });
  clients.push(c);
  await c.waitFor(/^REGISTERED /, 30_000);
  return c;
}

beforeAll(async () => {
  profilesDir = await mkdtemp(join(tmpdir(), 'rpc-cluster-'));
  await writeFile(join(profilesDir, 'drop.json'), JSON.stringify(PROFILE));
  kafka = new Kafka({ clientId: 'rpc-cluster-test', brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: topics.requests, numPartitions: PARTITIONS },
      { topic: topics.responses },
      { topic: topics.events },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  records = await KafkaRecords.follow(testKafkaBrokers(), [topics.responses, topics.events]);
  [a, b] = await Promise.all([startBridgeProcess(env('bridge-a')), startBridgeProcess(env('bridge-b'))]);
  lb = await UdpBalancer.start(a.coapPort);
  await waitForGroupMembers(2);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all([a?.kill(), b?.kill()]);
  await lb?.close();
  await records?.close();
  await producer?.disconnect();
  if (profilesDir !== undefined) await rm(profilesDir, { recursive: true, force: true });
});

it('a request consumed by the instance that does not reach the device is run by the one that does', async () => {
  const ep = `cl-${run}-1`;
  await leshan(ep);
  const takenBefore = [
    await bridgeMetric(a as BridgeProcess, 'lwm2m_rpc_requests_taken_total'),
    await bridgeMetric(b as BridgeProcess, 'lwm2m_rpc_requests_taken_total'),
  ];
  // One request on every partition: each instance owns some, so both take requests for this device.
  const ids = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => request(ep, 'Read', { id: '/3/0/0' }, p)));
  for (const id of ids)
    expect((await responseOf(id)).value).toMatchObject({
      id,
      endpoint: ep,
      method: 'Read',
      result: 'CONTENT',
      value: { '/3/0/0': expect.any(String) },
    });
  const taken = [
    await bridgeMetric(a as BridgeProcess, 'lwm2m_rpc_requests_taken_total'),
    await bridgeMetric(b as BridgeProcess, 'lwm2m_rpc_requests_taken_total'),
  ];
  expect(taken[0]).toBeGreaterThan(takenBefore[0] as number);
  expect(taken[1]).toBeGreaterThan(takenBefore[1] as number);
  // Every downlink to this device came from instance A, the one its traffic reaches.
  expect(new Set(lb.downlinks.map((d) => d.fromPort))).toEqual(new Set([(a as BridgeProcess).coapPort]));
  for (const id of ids) {
    expect(responsesOf(id)).toHaveLength(1);
    const progress = records.records
      .filter((r) => r.topic === topics.events && (r.value.detail as { rpcId?: string } | undefined)?.rpcId === id)
      .map((r) => r.value.type);
    expect(progress).toEqual(['rpc-queued', 'rpc-sent', 'rpc-delivered']);
  }
});

it('malformed records are answered BAD_REQUEST naming the field, and the consumer goes on; an unknown endpoint gets NOT_REGISTERED', async () => {
  const bad = [
    { value: 'not json at all', expectError: /JSON/ },
    { value: JSON.stringify({ id: 'bad-1', endpoint: 'x', method: 'Teleport', params: {} }), expectError: /method/ },
    { value: JSON.stringify({ id: 'bad-2', endpoint: 'x', method: 'Read', params: {} }), expectError: /params\.id/ },
    {
      value: JSON.stringify({ id: 'bad-3', endpoint: 'x', method: 'Read', params: { id: '/3/0/0' }, timeoutMs: -5 }),
      expectError: /timeoutMs/,
    },
  ];
  await producer.send({ topic: topics.requests, messages: bad.map((m) => ({ key: `bad-${run}`, value: m.value })) });
  for (const id of ['bad-1', 'bad-2', 'bad-3']) {
    const r = await responseOf(id);
    expect(r.value).toMatchObject({ id, result: 'BAD_REQUEST' });
    expect(String(r.value.error)).toMatch(bad.find((m) => m.value.includes(`"${id}"`))?.expectError ?? /./);
  }
  const garbage = await records.waitFor(
    (r) => r.topic === topics.responses && r.value.result === 'BAD_REQUEST' && /JSON/.test(String(r.value.error)),
    30_000,
    'response to the unreadable record',
  );
  expect(garbage.value.id).toBe('');
  const unknown = await request(`nobody-${run}`, 'Read', { id: '/3/0/0' });
  expect((await responseOf(unknown)).value).toMatchObject({ result: 'NOT_REGISTERED', endpoint: `nobody-${run}` });
});

it('notifications of an observation created by RPC on a path the profile drops come as notification events', async () => {
  const ep = `cl-${run}-n`;
  await leshan(ep, false, 200);
  const id = await request(ep, 'Observe', { id: '/3303/0/5700' });
  expect((await responseOf(id)).value).toMatchObject({ result: 'CONTENT', types: { '/3303/0/5700': 'FLOAT' } });
  const n = await records.waitFor(
    (r) => r.topic === topics.events && r.key === ep && r.value.type === 'notification',
    30_000,
    'notification event',
  );
  expect(n.value.detail).toMatchObject({
    paths: ['/3303/0/5700'],
    values: { '/3303/0/5700': expect.any(Number) },
    types: { '/3303/0/5700': 'FLOAT' },
  });
  expect((await responseOf(await request(ep, 'ObserveCancelAll', {}))).value).toMatchObject({
    result: 'CONTENT',
    count: 1,
  });
});

it('a queue-mode client (Leshan -q) gets its held request when it wakes', async () => {
  const ep = `cl-${run}-q`;
  const c = await leshan(ep, true);
  // Let its awake window pass: the device is asleep from the bridge's point of view.
  await new Promise((resolve) => setTimeout(resolve, AWAKE_MS + 500));
  const id = await request(ep, 'Read', { id: '/3/0/9' });
  await records.waitFor(
    (r) =>
      r.topic === topics.events && r.value.type === 'rpc-queued' && (r.value.detail as { rpcId: string }).rpcId === id,
    30_000,
    'rpc-queued',
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(responsesOf(id)).toEqual([]);
  const view = (await (
    await fetch(`http://127.0.0.1:${(b as BridgeProcess).httpPort}/devices/${ep}`, {
      headers: { authorization: 'Bearer secret' },
    })
  ).json()) as { rpc: { id: string; running: boolean }[] };
  expect(view.rpc.map((p) => p.id)).toEqual([id]);
  c.send('update');
  await c.waitFor(/^UPDATED$/, 30_000);
  expect((await responseOf(id)).value).toMatchObject({
    id,
    result: 'CONTENT',
    value: { '/3/0/9': expect.any(Number) },
  });
  expect(responsesOf(id)).toHaveLength(1);
});

it('the instance that reaches the device is killed: requests wait for its next uplink and arrive through the other, and the device is not re-registered', async () => {
  const ep = `cl-${run}-k`;
  const c = await leshan(ep);
  await (a as BridgeProcess).kill();
  lb.switchTo((b as BridgeProcess).coapPort);
  // B takes the requests partitions once the group notices A is gone, and A's heartbeat expires.
  await waitForGroupMembers(1);
  const id = await request(ep, 'Read', { id: '/3/0/0' });
  // A, which reached the device, is gone and B has not seen it: the request is not sent blind
  // (behind a NAT it would not get through) but waits, first in line, for the device's next uplink.
  await expect(responseOf(id, 3000)).rejects.toThrow(/no response/);
  c.send('update');
  await c.waitFor(/^UPDATED$/, 30_000);
  // That uplink reached B, which became its owner and ran the request.
  expect((await responseOf(id, 60_000)).value).toMatchObject({ id, result: 'CONTENT' });
  const last = lb.downlinks[lb.downlinks.length - 1];
  expect(last?.fromPort).toBe((b as BridgeProcess).coapPort);
  const w = await request(ep, 'WriteReplace', { id: '/3/0/14', value: '+02:00' });
  expect((await responseOf(w)).value).toMatchObject({ result: 'CHANGED' });
  expect(c.lines.filter((l) => l.startsWith('REGISTERED '))).toHaveLength(1);
});
