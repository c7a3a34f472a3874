/**
 * Notifications (RFC 7641 §3.2-§3.6, LwM2M-Core 1.2 §6.4.2) without sockets: the real LwM2mServer
 * on the in-memory datagram pair. The test device registers, answers the server's Observe GET,
 * then notifies; every datagram the server sends back is checked.
 */
import { Code, MessageType, Method, Opt, type CoapMessage } from '../../coap/message';
import { getUintOption, pathOptions, uintOption, uriPath } from '../../coap/options';
import type { Peer, PeerIdentity } from '../../transport/types';
import type { ServerEvent } from '../events';
import { DEVICE_PEER, MemoryDatagramPair } from '../../../test/support/memory-datagram-pair';
import { startTestServer, type TestServer } from '../../../test/support/test-server';

const SENML_JSON = 110;
const TEMP = { objectId: 3303, instanceId: 0, resourceId: 5700 };
const senml = (v: number): Buffer => Buffer.from(JSON.stringify([{ bn: '/3303/0/5700', v }]));

let pair: MemoryDatagramPair;
let srv: TestServer;

beforeEach(async () => {
  pair = new MemoryDatagramPair();
  srv = await startTestServer({ transport: pair.server });
});
afterEach(async () => {
  await srv.stop();
  await pair.close();
});

function eventsOf<T extends ServerEvent['type']>(type: T): Array<Extract<ServerEvent, { type: T }>> {
  return srv.events.filter((e): e is Extract<ServerEvent, { type: T }> => e.type === type);
}

/** Registers `ep` (LwM2M 1.1, with object 3303) from `from`, over DTLS when `identity` is given. */
async function register(ep: string, from: Peer = DEVICE_PEER, identity?: PeerIdentity): Promise<void> {
  const options = [...pathOptions(['rd'], [`ep=${ep}`, 'lwm2m=1.1']), uintOption(Opt.CONTENT_FORMAT, 40)];
  pair.sendCoap(
    {
      type: MessageType.CON,
      code: Method.POST,
      token: Buffer.from([1]),
      options,
      payload: Buffer.from('</3/0>,</3303/0>'),
    },
    from,
    identity,
  );
  expect((await pair.received()).map((d) => d.msg.code)).toEqual([Code.CREATED]);
}

/** Observes the temperature of `ep`; the device answers with Observe 10. Returns the GET (its token is the observation's). */
async function observe(
  ep: string,
  from: Peer = DEVICE_PEER,
  identity?: PeerIdentity,
): Promise<{ msg: CoapMessage; peer: Peer }> {
  const observing = srv.server.observe(ep, TEMP);
  const get = await pair.nextCoap();
  expect(get.msg).toMatchObject({ type: MessageType.CON, code: Method.GET });
  expect(uriPath(get.msg)).toEqual(['3303', '0', '5700']);
  expect(getUintOption(get.msg, Opt.OBSERVE)).toBe(0);
  const options = [uintOption(Opt.OBSERVE, 10), uintOption(Opt.CONTENT_FORMAT, SENML_JSON)];
  pair.sendCoap(
    {
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: get.msg.messageId,
      token: get.msg.token,
      options,
      payload: senml(20),
    },
    from,
    identity,
  );
  const res = await observing;
  expect(res.observation?.token).toBe(get.msg.token.toString('hex'));
  expect(await pair.received()).toEqual([]);
  return get;
}

interface Notify {
  readonly seq?: number;
  readonly value?: number;
  readonly type?: MessageType;
  readonly code?: number;
  readonly from?: Peer;
  readonly identity?: PeerIdentity;
}

/** Sends a notification (2.05, Observe `seq`, SenML JSON); returns its Message ID. */
function notify(token: Buffer, n: Notify = {}): number {
  const options = [
    ...(n.seq === undefined ? [] : [uintOption(Opt.OBSERVE, n.seq)]),
    uintOption(Opt.CONTENT_FORMAT, SENML_JSON),
  ];
  const msg = pair.sendCoap(
    { type: n.type ?? MessageType.CON, code: n.code ?? Code.CONTENT, token, options, payload: senml(n.value ?? 0) },
    n.from ?? DEVICE_PEER,
    n.identity,
  );
  return msg.messageId;
}

/** The replies the server sent, as [type, Message ID], once everything settled. */
async function replies(): Promise<Array<[MessageType, number]>> {
  return (await pair.received()).map((d) => [d.msg.type, d.msg.messageId]);
}

const values = (): unknown[] => eventsOf('notification').map((e) => e.nodes.get('/3303/0/5700'));
const temperature = (value: number): unknown => expect.objectContaining({ kind: 'resource', id: 5700, value });

describe('notifications of a known observation', () => {
  beforeEach(() => register('obs'));

  it('a CON notification is ACKed (empty ACK, its Message ID) and emitted with its decoded values', async () => {
    const get = await observe('obs');
    const mid = notify(get.msg.token, { seq: 11, value: 21.5 });
    const [ack, ...more] = await pair.received();
    expect(more).toEqual([]);
    expect(ack?.data).toEqual(Buffer.from([0x60, 0x00, mid >> 8, mid & 0xff]));
    expect(ack?.peer).toEqual(DEVICE_PEER);
    const [event, ...others] = eventsOf('notification');
    expect(others).toEqual([]);
    expect(event).toMatchObject({
      registration: { endpoint: 'obs' },
      observation: { token: get.msg.token.toString('hex'), paths: ['/3303/0/5700'] },
      sequence: 11,
    });
    expect([...(event?.nodes.keys() ?? [])]).toEqual(['/3303/0/5700']);
    expect(values()).toEqual([temperature(21.5)]);
  });

  it('a NON notification is taken without any reply', async () => {
    const get = await observe('obs');
    notify(get.msg.token, { seq: 11, value: 7, type: MessageType.NON });
    expect(await replies()).toEqual([]);
    expect(values()).toEqual([temperature(7)]);
  });

  it('a stale notification (older Observe sequence) is ACKed but not emitted (RFC 7641 §3.4)', async () => {
    const get = await observe('obs');
    const m12 = notify(get.msg.token, { seq: 12, value: 22 });
    expect(await replies()).toEqual([[MessageType.ACK, m12]]);
    const m11 = notify(get.msg.token, { seq: 11, value: 21 });
    expect(await replies()).toEqual([[MessageType.ACK, m11]]);
    const m13 = notify(get.msg.token, { seq: 13, value: 23 });
    expect(await replies()).toEqual([[MessageType.ACK, m13]]);
    expect(eventsOf('notification').map((e) => e.sequence)).toEqual([12, 13]);
    expect(values()).toEqual([temperature(22), temperature(23)]);
  });

  it('the response that established the observation counts: an older notification after it is stale (RFC 7641 §3.4)', async () => {
    const get = await observe('obs'); // answered with Observe 10
    const m5 = notify(get.msg.token, { seq: 5, value: 19 });
    expect(await replies()).toEqual([[MessageType.ACK, m5]]);
    const m11 = notify(get.msg.token, { seq: 11, value: 21 });
    expect(await replies()).toEqual([[MessageType.ACK, m11]]);
    expect(eventsOf('notification').map((e) => e.sequence)).toEqual([11]);
  });

  it('a repeated CON notification (same Message ID) is ACKed again but emitted once (RFC 7252 §4.5)', async () => {
    const get = await observe('obs');
    pair.duplicate('to-server');
    const mid = notify(get.msg.token, { seq: 11, value: 1 });
    expect(await replies()).toEqual([
      [MessageType.ACK, mid],
      [MessageType.ACK, mid],
    ]);
    expect(values()).toEqual([temperature(1)]);
  });

  it.each([
    ['an error code', { seq: 11, code: Code.NOT_FOUND }, 'error-response'],
    ['a 2.05 without Observe', { code: Code.CONTENT }, 'not-observable'],
  ] as const)(
    '%s ends the observation (RFC 7641 §3.2): ACKed, announced, the next notification gets RST',
    async (_what, n, reason) => {
      const get = await observe('obs');
      const token = get.msg.token.toString('hex');
      const mid = notify(get.msg.token, n);
      expect(await replies()).toEqual([[MessageType.ACK, mid]]);
      expect(eventsOf('observation-ended')).toMatchObject([{ reason, observation: { token } }]);
      expect(await srv.observations.getByToken(token)).toBeUndefined();
      const next = notify(get.msg.token, { seq: 12 });
      expect(await replies()).toEqual([[MessageType.RST, next]]);
      expect(eventsOf('notification')).toEqual([]);
    },
  );

  it('a notification whose registration is gone gets RST, and the observation is dropped', async () => {
    const get = await observe('obs');
    const reg = await srv.server.registration('obs');
    await srv.registrations.deregister(reg.id);
    const mid = notify(get.msg.token, { seq: 11 });
    expect(await replies()).toEqual([[MessageType.RST, mid]]);
    expect(await srv.observations.getByToken(get.msg.token.toString('hex'))).toBeUndefined();
    expect(eventsOf('notification')).toEqual([]);
  });
});

describe('notifications that match no observation', () => {
  it('get RST, CON or NON, and no event (RFC 7641 §3.6)', async () => {
    await register('obs');
    const unknown = Buffer.from('0123456789abcdef', 'hex');
    const con = notify(unknown, { seq: 5 });
    const non = notify(unknown, { seq: 6, type: MessageType.NON });
    expect(await replies()).toEqual([
      [MessageType.RST, con],
      [MessageType.RST, non],
    ]);
    expect(eventsOf('notification')).toEqual([]);
    expect(srv.server.endpoint.stats.unknownNotifications).toBe(2);
  });
});

describe('over DTLS (LwM2M-Core 1.2 §7.1)', () => {
  const SECURE_DEVICE: Peer = { address: '198.51.100.50', port: 50505 };
  const identity: PeerIdentity = { mode: 'psk', name: 'id-sec', endpoint: 'sec' };

  it('only the observed endpoint may notify: another identity, or plaintext, gets RST and a 4.03 rejected event', async () => {
    await register('sec', SECURE_DEVICE, identity);
    const get = await observe('sec', SECURE_DEVICE, identity);
    expect(get.peer).toEqual({ ...SECURE_DEVICE, secure: true }); // the GET may only leave through DTLS
    const stranger = notify(get.msg.token, {
      seq: 11,
      from: SECURE_DEVICE,
      identity: { mode: 'psk', name: 'id-other', endpoint: 'other' },
    });
    const plain = notify(get.msg.token, { seq: 12, from: SECURE_DEVICE });
    expect(await replies()).toEqual([
      [MessageType.RST, stranger],
      [MessageType.RST, plain],
    ]);
    expect(eventsOf('rejected').map((e) => [e.operation, e.code])).toEqual([
      ['notification', Code.FORBIDDEN],
      ['notification', Code.FORBIDDEN],
    ]);
    expect(eventsOf('rejected')[0]?.reason).toContain('bound to endpoint "other", not "sec"');
    expect(eventsOf('rejected')[1]?.reason).toContain('came in plaintext');
    const genuine = notify(get.msg.token, { seq: 13, value: 30, from: SECURE_DEVICE, identity });
    expect(await replies()).toEqual([[MessageType.ACK, genuine]]);
    expect(values()).toEqual([temperature(30)]);
  });
});
