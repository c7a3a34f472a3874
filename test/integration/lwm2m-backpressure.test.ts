/**
 * Back-pressure at the device edge: a Send is acknowledged only once its sink accepted the data;
 * an unavailable dependency answers 5.03 with Max-Age (RFC 7252 §5.9.3.4) and loses nothing that was acknowledged.
 */
import { BusUnavailableError } from '../../src/bus/types';
import { Code, MessageType, Method, Opt } from '../../src/coap/message';
import { getUintOption, pathOptions, uintOption } from '../../src/coap/options';
import { ScriptedPeer, type Received } from '../support/scripted-peer';
import { startTestServer, type TestServer } from '../support/test-server';

let srv: TestServer;
let dev: ScriptedPeer;
let mid = 5000;
let available = true;
const accepted: number[] = [];

beforeEach(async () => {
  available = true;
  accepted.length = 0;
  srv = await startTestServer({
    retryAfterS: 7,
    admitRegistration: () => {
      if (!available) throw new BusUnavailableError('bus unavailable');
    },
    sendSink: async (_reg, entries) => {
      if (!available) throw new BusUnavailableError('bus unavailable');
      await new Promise<void>((resolve) => setImmediate(resolve)); // the sink acks asynchronously
      for (const e of entries)
        for (const n of e.nodes.values())
          if (n?.kind === 'resource' && typeof n.value === 'number') accepted.push(n.value);
    },
  });
  dev = await ScriptedPeer.open();
});
afterEach(async () => {
  await dev.close();
  await srv.stop();
});

function request(path: string[], query: string[], payload: string, format: number): Promise<Received> {
  const messageId = mid++;
  dev.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId,
      token: Buffer.from([3]),
      options: [...pathOptions(path, query), uintOption(Opt.CONTENT_FORMAT, format)],
      payload: Buffer.from(payload),
    },
    srv.address,
  );
  return dev.waitFor((r) => r.msg.messageId === messageId);
}

const sendValue = (v: number): Promise<Received> =>
  request(['dp'], [], JSON.stringify([{ bn: '/3303/0/5700', v }]), 110);

it('acknowledges a Send only after the sink accepted it, and answers 5.03 + Max-Age while it is unavailable', async () => {
  expect((await request(['rd'], ['ep=bp', 'lwm2m=1.1'], '</3303/0>', 40)).msg.code).toBe(Code.CREATED);
  expect((await sendValue(1)).msg.code).toBe(Code.CHANGED);
  available = false;
  const refused = await sendValue(2);
  expect(refused.msg.code).toBe(Code.SERVICE_UNAVAILABLE);
  expect(getUintOption(refused.msg, Opt.MAX_AGE)).toBe(7);
  const reg = await request(['rd'], ['ep=bp2', 'lwm2m=1.1'], '</3/0>', 40);
  expect(reg.msg.code).toBe(Code.SERVICE_UNAVAILABLE);
  expect(await srv.registrations.getByEndpoint('bp2')).toBeUndefined();
  available = true;
  expect((await sendValue(3)).msg.code).toBe(Code.CHANGED);
  // Every acknowledged value was accepted; the refused one was not (the device will resend it).
  expect(accepted).toEqual([1, 3]);
  expect(srv.events.filter((e) => e.type === 'send')).toHaveLength(2);
});
