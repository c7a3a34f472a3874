/**
 * Shutdown a kubelet can rely on: with SHUTDOWN_TIMEOUT_MS=3000 and one RPC in flight to a
 * device that does not answer, SIGTERM turns the bridge unready at once, it keeps serving for
 * SHUTDOWN_DRAIN_MS, the waiting HTTP caller is told the request stays queued, the process exits
 * within the budget, and the request is handed back: another instance runs it as soon as the
 * device shows up there, and it gets exactly one response on Kafka.
 */
import { randomUUID } from 'node:crypto';
import { Code, MessageType, Method, Opt } from '../../src/coap/message';
import { getOptions, pathOptions, uintOption, uriPath } from '../../src/coap/options';
import { realInfraEnv, startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { testKafkaBrokers } from '../support/infra';
import { KafkaRecords } from '../support/kafka-records';
import { ScriptedPeer, type Received } from '../support/scripted-peer';

jest.setTimeout(120_000);

const run = randomUUID().slice(0, 8);
const prefix = `shut-${run}.`;
const BUDGET_MS = 3000;
const DRAIN_MS = 800;
const env = (instance: string): Record<string, string> =>
  realInfraEnv(`shut-${run}`, prefix, {
    INSTANCE_ID: instance,
    SHUTDOWN_TIMEOUT_MS: String(BUDGET_MS),
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    INSTANCE_HEARTBEAT_MS: '300',
    KAFKA_RPC_GROUP_ID: `shut-${run}`,
  });

let a: BridgeProcess | undefined;
let b: BridgeProcess | undefined;
let dev: ScriptedPeer;
let records: KafkaRecords;
let mid = 1;

beforeAll(async () => {
  records = await KafkaRecords.follow(testKafkaBrokers(), [`${prefix}rpc.responses`]);
  dev = await ScriptedPeer.open();
});

afterAll(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  await dev?.close();
  await records?.close();
});

const at = (bridge: BridgeProcess) => ({ address: '127.0.0.1', port: bridge.coapPort });

async function post(bridge: BridgeProcess, path: string[], query: string[], payload: string): Promise<Received> {
  const messageId = mid++;
  const token = Buffer.from([0x5a, messageId]);
  dev.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId,
      token,
      options: [...pathOptions(path, query), uintOption(Opt.CONTENT_FORMAT, 40)],
      payload: Buffer.from(payload),
    },
    at(bridge),
  );
  return dev.waitFor((r) => r.msg.type === MessageType.ACK && r.msg.messageId === messageId, 10_000);
}

it('exits within SHUTDOWN_TIMEOUT_MS with an RPC in flight, and the request is handed back to another instance', async () => {
  a = await startBridgeProcess(env('shut-a'));
  const ep = `shut-${run}`;
  const created = await post(a, ['rd'], [`ep=${ep}`, 'lt=300', 'lwm2m=1.1'], '</3/0>');
  expect(created.msg.code).toBe(Code.CREATED);
  const location = getOptions(created.msg, Opt.LOCATION_PATH).map((b) => b.toString('utf8'));

  // An RPC through the HTTP API, waiting for the device, which stays silent.
  const call = fetch(`http://127.0.0.1:${a.httpPort}/devices/${ep}/rpc`, {
    method: 'POST',
    headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'Read', params: { id: '/3/0/9' }, timeoutMs: 60_000 }),
  });
  const downlink = await dev.waitFor((r) => r.msg.code === Method.GET, 10_000);
  expect(uriPath(downlink.msg)).toEqual(['3', '0', '9']);

  const signalled = performance.now();
  const exited = a.terminate();
  // Unready as soon as the signal is handled (a request racing the signal may still see 200),
  // while it still answers during the drain interval.
  let readyz = await fetch(`http://127.0.0.1:${a.httpPort}/readyz`);
  while (readyz.status === 200 && performance.now() - signalled < DRAIN_MS) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    readyz = await fetch(`http://127.0.0.1:${a.httpPort}/readyz`);
  }
  expect(readyz.status).toBe(503);
  expect((await fetch(`http://127.0.0.1:${a.httpPort}/readyz/serving`)).status).toBe(503);
  expect(performance.now() - signalled).toBeLessThan(DRAIN_MS);
  const ping = mid++;
  dev.send({ type: MessageType.CON, code: Code.EMPTY, messageId: ping }, at(a));
  const rst = await dev.waitFor((r) => r.msg.type === MessageType.RST && r.msg.messageId === ping, 2000);
  expect(rst.msg.type).toBe(MessageType.RST);

  const answer = await call;
  expect(answer.status).toBe(503);
  const body = (await answer.json()) as { id: string; error: string };
  expect(body.error).toMatch(/stays queued and another instance runs it/);

  const code = await exited;
  const tookMs = performance.now() - signalled;
  expect(tookMs).toBeLessThan(BUDGET_MS + 500);
  expect(a.lines.some((l) => l.includes('"msg":"shut down"'))).toBe(true);
  expect(code).toBe(0);

  // The device's next uplink reaches another instance (the load balancer moved it): the request
  // runs there at once, not after its lease would have passed, and is answered once.
  b = await startBridgeProcess(env('shut-b'));
  const updated = await post(b, location, [], '');
  expect(updated.msg.code).toBe(Code.CHANGED);
  const again = await dev.waitFor((r) => r.msg.code === Method.GET && r.from.port === b?.coapPort, 10_000);
  dev.send(
    {
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: again.msg.messageId,
      token: again.msg.token,
      options: [uintOption(Opt.CONTENT_FORMAT, 0)],
      payload: Buffer.from('87'),
    },
    at(b),
  );
  const response = await records.waitFor((r) => r.value.id === body.id, 15_000, `response ${body.id}`);
  expect(response.value).toMatchObject({ id: body.id, endpoint: ep, result: 'CONTENT' });
  await dev.expectSilence(500);
  expect(records.records.filter((r) => r.value.id === body.id)).toHaveLength(1);
});
