/**
 * Observe (RFC 7641, LwM2M-Core 1.2 §6.4) and Send (§6.4.3) in lockstep with a scripted device.
 */
import { Code, MessageType, Method, Opt } from '../../src/coap/message';
import { getOption, getUintOption, pathOptions, uintOption, uriPath } from '../../src/coap/options';
import { ScriptedPeer, type Received } from '../support/scripted-peer';
import { startTestServer, type TestServer } from '../support/test-server';

let srv: TestServer;
let dev: ScriptedPeer;
let mid = 2000;

beforeEach(async () => {
  srv = await startTestServer();
  dev = await ScriptedPeer.open();
  const messageId = mid++;
  dev.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId,
      token: Buffer.from([1]),
      options: [...pathOptions(['rd'], ['ep=obs', 'lwm2m=1.1']), uintOption(Opt.CONTENT_FORMAT, 40)],
      payload: Buffer.from('</3/0>,</3303/0>'),
    },
    srv.address,
  );
  await dev.waitFor((r) => r.msg.messageId === messageId);
});
afterEach(async () => {
  await dev.close();
  await srv.stop();
});

const TEMP = { objectId: 3303, instanceId: 0, resourceId: 5700 };
const senml = (v: number): Buffer => Buffer.from(JSON.stringify([{ bn: '/3303/0/5700', v }]));

async function establish(): Promise<Received> {
  const observing = srv.server.observe('obs', TEMP);
  const get = await dev.waitFor((r) => r.msg.code === Method.GET);
  expect(uriPath(get.msg)).toEqual(['3303', '0', '5700']);
  expect(getUintOption(get.msg, Opt.OBSERVE)).toBe(0);
  expect(getUintOption(get.msg, Opt.ACCEPT)).toBe(112); // 1.1 client without ct: SenML CBOR
  dev.send(
    {
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: get.msg.messageId,
      token: get.msg.token,
      options: [uintOption(Opt.OBSERVE, 10), uintOption(Opt.CONTENT_FORMAT, 110)],
      payload: senml(20),
    },
    srv.address,
  );
  const res = await observing;
  expect(res.result).toBe('CONTENT');
  expect(res.observation).toBeDefined();
  expect(res.node).toMatchObject({ kind: 'resource', value: 20 });
  return get;
}

function notify(token: Buffer, seq: number, value: number, type = MessageType.CON): number {
  const messageId = mid++;
  dev.send(
    {
      type,
      code: Code.CONTENT,
      messageId,
      token,
      options: [uintOption(Opt.OBSERVE, seq), uintOption(Opt.CONTENT_FORMAT, 110)],
      payload: senml(value),
    },
    srv.address,
  );
  return messageId;
}

const values = (): unknown[] =>
  srv.events.flatMap((e) =>
    e.type === 'notification' ? [...e.nodes.values()].map((n) => (n && n.kind === 'resource' ? n.value : null)) : [],
  );

describe('Observe', () => {
  it('delivers CON and NON notifications in sequence order and drops stale ones (RFC 7641 §3.4)', async () => {
    const get = await establish();
    let m = notify(get.msg.token, 11, 21);
    expect((await dev.waitFor((r) => r.msg.messageId === m)).msg.type).toBe(MessageType.ACK);
    await srv.waitForEvent('notification', (e) => e.sequence === 11);
    m = notify(get.msg.token, 9, 19); // older than 11: acknowledged but not delivered
    expect((await dev.waitFor((r) => r.msg.messageId === m)).msg.type).toBe(MessageType.ACK);
    notify(get.msg.token, 12, 22, MessageType.NON);
    await srv.waitForEvent('notification', (e) => e.sequence === 12);
    expect(values()).toEqual([21, 22]);
  });

  it('accepts a sequence that wrapped around 2^24 (RFC 7641 §3.4; the established response had Observe 10)', async () => {
    const get = await establish();
    // Each step is less than 2^23 ahead of the last, the last one across the wrap.
    for (const [seq, value] of [
      [0x7fff00, 1],
      [0xfff000, 2],
      [2, 3],
    ] as const) {
      const m = notify(get.msg.token, seq, value);
      await dev.waitFor((r) => r.msg.messageId === m);
    }
    await srv.waitForEvent('notification', (e) => e.sequence === 2);
    expect(values()).toEqual([1, 2, 3]);
  });

  it('passive cancel forgets the token: the next notification is answered with RST', async () => {
    const get = await establish();
    expect(await srv.server.cancelObservations('obs', { kind: 'single', paths: ['/3303/0/5700'] }, 'passive')).toBe(1);
    const m = notify(get.msg.token, 11, 21);
    expect((await dev.waitFor((r) => r.msg.messageId === m)).msg.type).toBe(MessageType.RST);
    expect(values()).toEqual([]);
  });

  it('active cancel sends GET with Observe=1 and the same token (RFC 7641 §3.6)', async () => {
    const get = await establish();
    const cancelling = srv.server.cancelObservations('obs', { kind: 'single' }, 'active');
    const cancel = await dev.waitFor((r) => r.msg.code === Method.GET);
    expect(getUintOption(cancel.msg, Opt.OBSERVE)).toBe(1);
    expect(cancel.msg.token.equals(get.msg.token)).toBe(true);
    dev.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: cancel.msg.messageId,
        token: cancel.msg.token,
        options: [uintOption(Opt.CONTENT_FORMAT, 110)],
        payload: senml(5),
      },
      srv.address,
    );
    expect(await cancelling).toBe(1);
    await srv.waitForEvent('observation-ended', (e) => e.reason === 'cancelled');
  });

  it('an error notification ends the observation (RFC 7641 §3.2)', async () => {
    const get = await establish();
    const messageId = mid++;
    dev.send(
      { type: MessageType.CON, code: Code.NOT_FOUND, messageId, token: get.msg.token, options: [] },
      srv.address,
    );
    await dev.waitFor((r) => r.msg.messageId === messageId);
    await srv.waitForEvent('observation-ended', (e) => e.reason === 'error-response');
    expect(await srv.observations.listByRegistration((await srv.server.registration('obs')).id)).toEqual([]);
  });

  it('a response without Observe means not observable: no observation is kept', async () => {
    const observing = srv.server.observe('obs', TEMP);
    const get = await dev.waitFor((r) => r.msg.code === Method.GET);
    dev.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: get.msg.messageId,
        token: get.msg.token,
        options: [uintOption(Opt.CONTENT_FORMAT, 110)],
        payload: senml(20),
      },
      srv.address,
    );
    const res = await observing;
    expect(res.observation).toBeUndefined();
    expect(await srv.server.listObservations('obs')).toEqual([]);
  });
});

describe('Send (POST /dp)', () => {
  function send(payload: Buffer, format: number | undefined, from: ScriptedPeer = dev): Promise<Received> {
    const messageId = mid++;
    const options = [...pathOptions(['dp']), ...(format === undefined ? [] : [uintOption(Opt.CONTENT_FORMAT, format)])];
    from.send(
      { type: MessageType.CON, code: Method.POST, messageId, token: Buffer.from([2]), options, payload },
      srv.address,
    );
    return from.waitFor((r) => r.msg.messageId === messageId);
  }

  it('accepts SenML JSON with timestamps and emits a send event', async () => {
    const payload = Buffer.from(
      JSON.stringify([
        { bn: '/3303/0/', bt: 1700000000, n: '5700', v: 1.5 },
        { n: '5700', v: 2.5, t: 10 },
        { bn: '/3/0/', n: '9', v: 80 },
      ]),
    );
    const r = await send(payload, 110);
    expect(r.msg.code).toBe(Code.CHANGED);
    const e = await srv.waitForEvent('send');
    expect(e.registration.endpoint).toBe('obs');
    expect(e.entries.length).toBeGreaterThanOrEqual(2);
  });

  it('answers 4.15 for a format Send does not allow, 4.00 for bad content, 4.04 when unregistered', async () => {
    expect((await send(Buffer.from('1'), 0)).msg.code).toBe(Code.UNSUPPORTED_CONTENT_FORMAT);
    expect((await send(Buffer.from('[{"bn":'), 110)).msg.code).toBe(Code.BAD_REQUEST);
    const stranger = await ScriptedPeer.open();
    try {
      const r = await send(senml(1), 110, stranger);
      expect(r.msg.code).toBe(Code.NOT_FOUND);
      expect(getOption(r.msg, Opt.CONTENT_FORMAT)).toBeUndefined();
    } finally {
      await stranger.close();
    }
    expect(srv.events.filter((e) => e.type === 'send')).toHaveLength(0);
  });
});
