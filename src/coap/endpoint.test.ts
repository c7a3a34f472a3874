/**
 * The CoAP message layer (RFC 7252 §4, §5.2, §5.3.2) without sockets: a CoapEndpoint on the
 * in-memory datagram pair, every datagram it sends checked in lockstep. Retransmission timing
 * runs on jest's fake clock (the pair delivers on the real one).
 */
import { CoapCancelledError, CoapResetError, CoapTimeoutError } from '../common/errors';
import { DEVICE_PEER, MemoryDatagramPair, coapOf, type CoapDatagram } from '../../test/support/memory-datagram-pair';
import { FAST } from '../../test/support/scripted-peer';
import type { Peer, PeerIdentity } from '../transport/types';
import { CoapEndpoint, type InboundRequest, type Responder } from './endpoint';
import { Code, EMPTY_BUFFER, MessageType, Method, Opt, type CoapMessage } from './message';
import { pathOptions, uriPath } from './options';
import type { DropReason } from './stats';

const TOKEN = Buffer.from('a1b2c3d4', 'hex');
const OTHER_PEER: Peer = { address: '203.0.113.20', port: 40000 };

let pair: MemoryDatagramPair;
let ep: CoapEndpoint | undefined;
let drops: Array<{ reason: DropReason; peer: string; detail: string }>;

beforeEach(() => {
  pair = new MemoryDatagramPair();
  ep = undefined;
  drops = [];
});

afterEach(async () => {
  await ep?.close();
  await pair.close();
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** The endpoint under test; with `fakeClock`, its timers (ticker, retransmissions) run on jest's clock. */
function open(
  opts: { fakeClock?: boolean; separateResponseDelayMs?: number; separateResponseTimeoutMs?: number } = {},
): CoapEndpoint {
  if (opts.fakeClock === true) jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
  ep = new CoapEndpoint({
    transport: pair.server,
    params: FAST,
    separateResponseDelayMs: opts.separateResponseDelayMs ?? 10_000,
    ...(opts.separateResponseTimeoutMs !== undefined
      ? { separateResponseTimeoutMs: opts.separateResponseTimeoutMs }
      : {}),
    events: { onDrop: (reason, peer, detail) => void drops.push({ reason, peer, detail }) },
  });
  return ep;
}

/** Advances the fake clock and lets what it triggered reach the device. */
async function advance(ms: number): Promise<void> {
  jest.advanceTimersByTime(ms);
  await pair.settle();
}

/** A request handler that records requests and keeps their responders for the test to answer. */
function holdingHandler(endpoint: CoapEndpoint): { requests: InboundRequest[]; responders: Responder[] } {
  const requests: InboundRequest[] = [];
  const responders: Responder[] = [];
  endpoint.setRequestHandler((req, respond) => {
    requests.push(req);
    responders.push(respond);
  });
  return { requests, responders };
}

const get = (
  messageId: number,
  extra: Partial<CoapMessage> = {},
): Partial<CoapMessage> & Pick<CoapMessage, 'type' | 'code'> => ({
  type: MessageType.CON,
  code: Method.GET,
  messageId,
  token: TOKEN,
  options: pathOptions(['temperature']),
  ...extra,
});

describe('inbound requests (server role, RFC 7252 §5.2)', () => {
  it('a CON request answered at once gets a piggybacked ACK with its Message ID and token, sent to the requester (§5.2.1)', async () => {
    const endpoint = open();
    const identity: PeerIdentity = { mode: 'psk', name: 'id-7', endpoint: 'dev-7' };
    const seen: Array<{ path: string[]; peer: Peer; identity?: PeerIdentity }> = [];
    endpoint.setRequestHandler((req, respond) => {
      seen.push({ path: uriPath(req.message), peer: req.peer, ...(req.identity ? { identity: req.identity } : {}) });
      respond({
        code: Code.CONTENT,
        options: [{ number: Opt.CONTENT_FORMAT, value: EMPTY_BUFFER }],
        payload: Buffer.from('22.3'),
      });
    });
    pair.sendCoap(get(0x7d34), DEVICE_PEER, identity);
    const [ack, ...rest] = await pair.received();
    expect(rest).toEqual([]);
    expect(ack?.peer).toEqual(DEVICE_PEER);
    expect(ack?.msg).toMatchObject({
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: 0x7d34,
      token: TOKEN,
      options: [{ number: Opt.CONTENT_FORMAT, value: EMPTY_BUFFER }],
    });
    expect(ack?.msg.payload.toString()).toBe('22.3');
    expect(seen).toEqual([{ path: ['temperature'], peer: DEVICE_PEER, identity }]);
    expect(endpoint.stats.requestsIn).toBe(1);
  });

  it('a CON request answered late gets an empty ACK, then a separate CON response that is retransmitted until ACKed (§5.2.2, §4.2)', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0); // first retransmission timeout exactly ACK_TIMEOUT
    const endpoint = open({ fakeClock: true, separateResponseDelayMs: 100 });
    const { requests, responders } = holdingHandler(endpoint);
    pair.sendCoap(get(0x3333));
    expect(await pair.received()).toEqual([]);
    expect(requests).toHaveLength(1);

    await advance(99);
    expect(await pair.received()).toEqual([]);
    await advance(1);
    const [emptyAck, ...more] = await pair.received();
    expect(more).toEqual([]);
    expect(emptyAck?.data).toHaveLength(4);
    expect(emptyAck?.msg).toMatchObject({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x3333 });

    // The request repeated after the empty ACK gets the empty ACK again, not a second handler call (§4.5).
    pair.sendCoap(get(0x3333));
    expect((await pair.received()).map((d) => d.data)).toEqual([emptyAck?.data]);
    expect(requests).toHaveLength(1);

    responders[0]?.({ code: Code.CONTENT, payload: Buffer.from('late') });
    const [separate] = await pair.received();
    expect(separate?.msg).toMatchObject({ type: MessageType.CON, code: Code.CONTENT, token: TOKEN });
    expect(separate?.msg.messageId).not.toBe(0x3333);
    expect(separate?.msg.payload.toString()).toBe('late');

    await advance(FAST.ackTimeoutMs - 1);
    expect(await pair.received()).toEqual([]);
    await advance(1);
    expect((await pair.received()).map((d) => d.data)).toEqual([separate?.data]);
    expect(endpoint.stats.retransmissions).toBe(1);

    pair.sendCoap({ type: MessageType.ACK, code: Code.EMPTY, messageId: separate?.msg.messageId ?? -1 });
    await pair.settle();
    await advance(FAST.ackTimeoutMs * 40);
    expect(await pair.received()).toEqual([]);
    expect(endpoint.stats.retransmissions).toBe(1);
    // A second respond() for the same request is ignored.
    responders[0]?.({ code: Code.CONTENT, payload: Buffer.from('again') });
    expect(await pair.received()).toEqual([]);
  });

  it('a duplicate CON gets the cached response again; the handler runs once (§4.5)', async () => {
    const endpoint = open();
    let calls = 0;
    endpoint.setRequestHandler((_req, respond) =>
      respond({ code: Code.CONTENT, payload: Buffer.from(`call ${++calls}`) }),
    );
    pair.duplicate('to-server');
    pair.sendCoap(get(0x1111));
    const replies = await pair.received();
    expect(replies).toHaveLength(2);
    expect(replies[1]?.data).toEqual(replies[0]?.data);
    expect(replies[0]?.msg.payload.toString()).toBe('call 1');
    expect(calls).toBe(1);
    expect(endpoint.stats.duplicates).toBe(1);
  });

  it('a duplicate CON that arrives before any reply is absorbed; later ones get the reply (§4.5)', async () => {
    const endpoint = open();
    const { requests, responders } = holdingHandler(endpoint);
    pair.sendCoap(get(0x1212));
    pair.sendCoap(get(0x1212));
    expect(await pair.received()).toEqual([]);
    expect(requests).toHaveLength(1);
    responders[0]?.({ code: Code.CHANGED });
    const [ack] = await pair.received();
    expect(ack?.msg).toMatchObject({ type: MessageType.ACK, code: Code.CHANGED, messageId: 0x1212 });
    pair.sendCoap(get(0x1212));
    expect((await pair.received()).map((d) => d.data)).toEqual([ack?.data]);
    expect(requests).toHaveLength(1);
  });

  it('the same Message ID from another source is not a duplicate, and each reply goes to its sender (§4.5)', async () => {
    const endpoint = open();
    endpoint.setRequestHandler((req, respond) =>
      respond({ code: Code.CHANGED, payload: Buffer.from(String(req.peer.port)) }),
    );
    pair.sendCoap(get(0x2222));
    pair.sendCoap(get(0x2222), OTHER_PEER);
    const replies = await pair.received();
    expect(replies.map((d) => [d.peer, d.msg.payload.toString()])).toEqual([
      [DEVICE_PEER, String(DEVICE_PEER.port)],
      [OTHER_PEER, String(OTHER_PEER.port)],
    ]);
    expect(endpoint.stats.duplicates).toBe(0);
  });

  it('a NON request gets a NON response with its token, never an ACK; a duplicate NON is ignored (§5.2.3, §4.5)', async () => {
    const endpoint = open({ separateResponseDelayMs: 20 });
    let calls = 0;
    endpoint.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT, payload: Buffer.from('non') });
    });
    pair.sendCoap(get(0x4444, { type: MessageType.NON }));
    pair.sendCoap(get(0x4444, { type: MessageType.NON }));
    const replies = await pair.received();
    expect(replies.map((d) => d.msg.type)).toEqual([MessageType.NON]);
    expect(replies[0]?.msg).toMatchObject({ code: Code.CONTENT, token: TOKEN });
    expect(replies[0]?.msg.payload.toString()).toBe('non');
    expect(calls).toBe(1);
  });

  it('a late answer to a NON request is a NON response, with no empty ACK before it (§5.2.3)', async () => {
    const endpoint = open({ fakeClock: true, separateResponseDelayMs: 20 });
    const { responders } = holdingHandler(endpoint);
    pair.sendCoap(get(0x4545, { type: MessageType.NON }));
    await pair.settle();
    await advance(1000);
    expect(await pair.received()).toEqual([]);
    responders[0]?.({ code: Code.CONTENT });
    const replies = await pair.received();
    expect(replies.map((d) => d.msg)).toMatchObject([{ type: MessageType.NON, code: Code.CONTENT, token: TOKEN }]);
  });

  it('a handler that throws gives 5.00, and the endpoint keeps serving', async () => {
    const endpoint = open();
    endpoint.setRequestHandler((req, respond) => {
      if (uriPath(req.message)[0] === 'boom') throw new Error('boom');
      respond({ code: Code.CONTENT });
    });
    pair.sendCoap(get(0x6666, { options: pathOptions(['boom']) }));
    pair.sendCoap(get(0x6667));
    expect((await pair.received()).map((d) => [d.msg.messageId, d.msg.code])).toEqual([
      [0x6666, Code.INTERNAL_SERVER_ERROR],
      [0x6667, Code.CONTENT],
    ]);
    expect(endpoint.stats.handlerErrors).toBe(1);
    expect(drops).toEqual([{ reason: 'handler-error', peer: '198.51.100.7:56830', detail: 'boom' }]);
  });

  it('an unrecognised critical option gets 4.02 in a CON and silence in a NON; an unknown elective one is ignored (§5.4.1)', async () => {
    const endpoint = open();
    let calls = 0;
    endpoint.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT });
    });
    const critical = { number: 9, value: Buffer.from([1]) };
    const elective = { number: 10, value: Buffer.from([1]) };
    pair.sendCoap(get(0x5001, { options: [critical] }));
    pair.sendCoap(get(0x5002, { type: MessageType.NON, options: [critical] }));
    pair.sendCoap(get(0x5003, { options: [elective] }));
    expect((await pair.received()).map((d) => [d.msg.type, d.msg.messageId, d.msg.code])).toEqual([
      [MessageType.ACK, 0x5001, Code.BAD_OPTION],
      [MessageType.ACK, 0x5003, Code.CONTENT],
    ]);
    expect(calls).toBe(1);
    expect(endpoint.stats.badOption).toBe(2);
  });
});

describe('malformed and Empty datagrams (RFC 7252 §3, §4.1-§4.3)', () => {
  const mid = [0x12, 0x34];
  it.each<[string, 'rst' | 'nothing', 'malformed' | 'ignored', DropReason, Buffer]>([
    [
      'a CON with a reserved token length (9)',
      'rst',
      'malformed',
      'malformed',
      Buffer.from([0x49, 0x01, ...mid, ...Buffer.alloc(9)]),
    ],
    ['a CON Empty message with a token', 'rst', 'malformed', 'malformed', Buffer.from([0x41, 0x00, ...mid, 0xaa])],
    [
      'a CON with a payload marker and no payload',
      'rst',
      'malformed',
      'malformed',
      Buffer.from([0x40, 0x01, ...mid, 0xff]),
    ],
    ['a CON with a reserved code class (1.xx)', 'rst', 'malformed', 'malformed', Buffer.from([0x40, 0x21, ...mid])],
    [
      'a NON with a reserved token length',
      'nothing',
      'malformed',
      'malformed',
      Buffer.from([0x59, 0x01, ...mid, ...Buffer.alloc(9)]),
    ],
    ['a datagram shorter than the header', 'nothing', 'malformed', 'malformed', Buffer.from([0x40, 0x01, 0x12])],
    ['a request code in an ACK', 'nothing', 'malformed', 'malformed', Buffer.from([0x60, 0x01, ...mid])],
    ['a request code in an RST', 'nothing', 'malformed', 'malformed', Buffer.from([0x70, 0x01, ...mid])],
    ['a message of CoAP version 2', 'nothing', 'ignored', 'unknown-version', Buffer.from([0x80, 0x01, ...mid])],
  ])('%s: answered with %s, counted as %s', async (_what, reply, counter, reason, datagram) => {
    const endpoint = open();
    const { requests } = holdingHandler(endpoint);
    pair.deviceSend(datagram);
    const replies = await pair.received();
    if (reply === 'rst') {
      expect(replies.map((d) => d.data)).toEqual([Buffer.from([0x70, 0x00, ...mid])]);
      expect(endpoint.stats.resetsOut).toBe(1);
    } else {
      expect(replies).toEqual([]);
    }
    expect(requests).toEqual([]);
    expect(endpoint.stats[counter]).toBe(1);
    expect(drops.map((d) => d.reason)).toEqual([reason]);
  });

  it('an Empty CON ("CoAP ping") is answered with RST and is not malformed (§4.3)', async () => {
    const endpoint = open();
    pair.sendCoap({ type: MessageType.CON, code: Code.EMPTY, messageId: 0x9001 });
    const replies = await pair.received();
    expect(replies.map((d) => d.msg)).toMatchObject([{ type: MessageType.RST, code: Code.EMPTY, messageId: 0x9001 }]);
    expect(endpoint.stats.malformed).toBe(0);
    expect(drops).toEqual([]);
  });
});

describe('outbound requests (client role, RFC 7252 §4.2, §5.3.2)', () => {
  /** Starts a request and records how it ended, without leaving a rejection unhandled. */
  function start(
    endpoint: CoapEndpoint,
    req: Parameters<CoapEndpoint['request']>[1],
  ): { outcome: () => CoapMessage | Error | undefined } {
    let outcome: CoapMessage | Error | undefined;
    endpoint.request(DEVICE_PEER, req).then(
      (msg) => void (outcome = msg),
      (err: Error) => void (outcome = err),
    );
    return { outcome: () => outcome };
  }
  const read = { code: Method.GET, options: pathOptions(['3', '0', '9']) };

  it('a CON request is retransmitted with exponential back-off, then fails after MAX_RETRANSMIT retransmissions', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const endpoint = open({ fakeClock: true });
    const { outcome } = start(endpoint, read);
    expect(pair.log).toHaveLength(1); // sent at once
    const first = coapOf(pair.log[0] as CoapDatagram);
    expect(first.peer).toEqual(DEVICE_PEER);
    expect(first.msg).toMatchObject({ type: MessageType.CON, code: Method.GET });
    expect(first.msg.token).toHaveLength(8);
    expect(uriPath(first.msg)).toEqual(['3', '0', '9']);
    let wait = FAST.ackTimeoutMs;
    for (let n = 1; n <= FAST.maxRetransmit; n++) {
      await advance(wait - 1);
      expect(pair.log).toHaveLength(n);
      await advance(1);
      expect(pair.log).toHaveLength(n + 1);
      expect(pair.log[n]?.data).toEqual(first.data); // same Message ID, same bytes
      wait *= 2;
    }
    await advance(wait - 1);
    expect(outcome()).toBeUndefined();
    await advance(1);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    expect((outcome() as Error).message).toContain(`after ${FAST.maxRetransmit} retransmissions`);
    await advance(wait * 4);
    expect(pair.log).toHaveLength(1 + FAST.maxRetransmit);
    expect(endpoint.stats.retransmissions).toBe(FAST.maxRetransmit);
    expect(endpoint.stats.timeouts).toBe(1);
  });

  it('the first retransmission timeout is drawn up to ACK_TIMEOUT × ACK_RANDOM_FACTOR', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const endpoint = open({ fakeClock: true });
    start(endpoint, read);
    // ACK_TIMEOUT × (1 + 0.999 × (ACK_RANDOM_FACTOR − 1)) = 74.975 ms: well past ACK_TIMEOUT, and within the bound.
    await advance(70);
    expect(pair.log).toHaveLength(1);
    await advance(5);
    expect(pair.log).toHaveLength(2);
  });

  it('a piggybacked response completes the exchange and stops retransmission; one with another token does not (§5.3.2)', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const endpoint = open({ fakeClock: true });
    const { outcome } = start(endpoint, read);
    await advance(FAST.ackTimeoutMs);
    expect(pair.log).toHaveLength(2);
    const req = coapOf(pair.log[0] as CoapDatagram).msg;
    pair.sendCoap({
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: req.messageId,
      token: Buffer.from('ffffffffffffffff', 'hex'),
      payload: Buffer.from('x'),
    });
    await pair.settle();
    expect(outcome()).toBeUndefined();
    expect(drops.map((d) => d.reason)).toEqual(['unmatched-response']);
    pair.sendCoap({
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: req.messageId,
      token: req.token,
      payload: Buffer.from('87'),
    });
    await pair.settle();
    const res = outcome() as CoapMessage;
    expect(res.code).toBe(Code.CONTENT);
    expect(res.payload.toString()).toBe('87');
    await advance(FAST.ackTimeoutMs * 40);
    expect(pair.log).toHaveLength(2);
    expect(await pair.received()).toHaveLength(2); // the request and its one retransmission, nothing for the ACKs
  });

  /** A CON request with a 5 s deadline that the device has answered with an empty ACK. */
  async function acknowledged(
    separateResponseTimeoutMs?: number,
  ): Promise<{ outcome: () => CoapMessage | Error | undefined; req: CoapMessage }> {
    const endpoint = open({
      fakeClock: true,
      ...(separateResponseTimeoutMs !== undefined ? { separateResponseTimeoutMs } : {}),
    });
    const { outcome } = start(endpoint, { ...read, timeoutMs: 5000 });
    const req = coapOf(pair.log[0] as CoapDatagram).msg;
    pair.sendCoap({ type: MessageType.ACK, code: Code.EMPTY, messageId: req.messageId });
    await pair.settle();
    return { outcome, req };
  }

  it('an empty ACK stops retransmission; the separate CON response completes the exchange and is ACKed (§5.2.2)', async () => {
    const { outcome, req } = await acknowledged();
    await advance(4000);
    expect(pair.log).toHaveLength(1);
    expect(outcome()).toBeUndefined();
    pair.sendCoap({
      type: MessageType.CON,
      code: Code.CONTENT,
      messageId: 0x7000,
      token: req.token,
      payload: Buffer.from('late'),
    });
    await pair.settle();
    expect((outcome() as CoapMessage).payload.toString()).toBe('late');
    const replies = await pair.received();
    expect(replies.slice(1).map((d) => d.data)).toEqual([Buffer.from([0x60, 0x00, 0x70, 0x00])]); // empty ACK, its MID
  });

  it('after an empty ACK, the exchange deadline bounds the wait for the separate response', async () => {
    const { outcome } = await acknowledged();
    await advance(4999);
    expect(outcome()).toBeUndefined();
    await advance(1);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    expect((outcome() as Error).message).toContain('within 5000 ms');
  });

  it('after an empty ACK, the separate-response bound ends the wait well before the deadline, and counts it', async () => {
    const { outcome } = await acknowledged(1500);
    await advance(1499);
    expect(outcome()).toBeUndefined();
    await advance(1);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    expect((outcome() as Error).message).toMatch(/acknowledged the request but sent no response within 1500 ms/);
    expect([ep?.stats.separateTimeouts, ep?.stats.timeouts]).toEqual([1, 0]);
  });

  it('a separate response within the bound completes the exchange as usual', async () => {
    const { outcome, req } = await acknowledged(1500);
    await advance(1400);
    pair.sendCoap({ type: MessageType.NON, code: Code.CONTENT, messageId: 0x7001, token: req.token });
    await pair.settle();
    expect((outcome() as CoapMessage).code).toBe(Code.CONTENT);
    await advance(1000);
    expect(ep?.stats.separateTimeouts).toBe(0);
  });

  it('a response that comes after the bound is ACKed and dropped, never taken for a notification (§5.2.2)', async () => {
    const { outcome, req } = await acknowledged(1500);
    const notified: CoapMessage[] = [];
    ep?.setNotificationListener((_peer, msg) => {
      notified.push(msg);
      return true;
    });
    await advance(1500);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x7002, token: req.token });
    await pair.settle();
    const replies = await pair.received();
    expect(replies.slice(1).map((d) => d.data)).toEqual([Buffer.from([0x60, 0x00, 0x70, 0x02])]); // empty ACK, its MID
    expect(notified).toEqual([]);
    expect(ep?.stats.lateResponses).toBe(1);
    expect(drops.map((d) => d.reason)).toEqual(['late-response']);
    // Recognised once: the same token again is no longer ours (a notification candidate).
    pair.sendCoap({ type: MessageType.NON, code: Code.CONTENT, messageId: 0x7003, token: req.token });
    await pair.settle();
    expect(notified).toHaveLength(1);
  });

  it('an RST fails the exchange with CoapResetError and ends its retransmission (§4.2)', async () => {
    const endpoint = open({ fakeClock: true });
    const { outcome } = start(endpoint, read);
    const req = coapOf(pair.log[0] as CoapDatagram).msg;
    pair.sendCoap({ type: MessageType.RST, code: Code.EMPTY, messageId: req.messageId });
    await pair.settle();
    expect(outcome()).toBeInstanceOf(CoapResetError);
    await advance(FAST.ackTimeoutMs * 40);
    expect(pair.log).toHaveLength(1);
    expect(endpoint.stats.resetsIn).toBe(1);
  });

  it('a NON request is sent once and matched by token; an unanswered one fails at its deadline (§4.3, §5.3.2)', async () => {
    const endpoint = open({ fakeClock: true });
    const answered = start(endpoint, { ...read, confirmable: false, timeoutMs: 300 });
    const unanswered = start(endpoint, { ...read, confirmable: false, timeoutMs: 300 });
    const [a, b] = pair.log.map((d) => coapOf(d).msg);
    expect([a?.type, b?.type]).toEqual([MessageType.NON, MessageType.NON]);
    expect(a?.token.equals(b?.token ?? EMPTY_BUFFER)).toBe(false);
    pair.sendCoap({
      type: MessageType.NON,
      code: Code.CONTENT,
      messageId: 0x7100,
      token: a?.token ?? EMPTY_BUFFER,
      payload: Buffer.from('n'),
    });
    await pair.settle();
    expect((answered.outcome() as CoapMessage).payload.toString()).toBe('n');
    await advance(299);
    expect(unanswered.outcome()).toBeUndefined();
    await advance(1);
    expect(unanswered.outcome()).toBeInstanceOf(CoapTimeoutError);
    expect(pair.log).toHaveLength(2);
    expect(endpoint.stats.retransmissions).toBe(0);
  });
});

describe('responses that match no exchange: notifications (RFC 7641 §3.6)', () => {
  it('go to the notification listener: a wanted CON one is ACKed, an unwanted one gets RST, a throwing listener too', async () => {
    const endpoint = open();
    const wanted = Buffer.from('01', 'hex');
    const broken = Buffer.from('02', 'hex');
    const heard: string[] = [];
    endpoint.setNotificationListener(async (_peer, msg) => {
      heard.push(msg.token.toString('hex'));
      if (msg.token.equals(broken)) throw new Error('store down');
      return msg.token.equals(wanted);
    });
    pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x8001, token: wanted });
    pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x8002, token: Buffer.from('03', 'hex') });
    pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x8003, token: broken });
    const replies = await pair.received();
    expect(replies.map((d) => [d.msg.type, d.msg.messageId])).toEqual([
      [MessageType.ACK, 0x8001],
      [MessageType.RST, 0x8002],
      [MessageType.RST, 0x8003],
    ]);
    expect(heard).toEqual(['01', '03', '02']);
    expect(endpoint.stats.unknownNotifications).toBe(2);
    expect(drops.map((d) => d.reason)).toEqual(['handler-error']);
  });
});

describe('close', () => {
  it('fails outstanding requests, closes the transport, and hears nothing after', async () => {
    const endpoint = open();
    const { requests } = holdingHandler(endpoint);
    const pending = endpoint.request(DEVICE_PEER, { code: Method.GET, options: [] });
    await endpoint.close();
    await expect(pending).rejects.toThrow('endpoint closed');
    await expect(pending).rejects.toBeInstanceOf(CoapCancelledError);
    expect(pair.isClosed).toBe(true);
    pair.sendCoap(get(0x9999));
    await pair.settle();
    expect(requests).toEqual([]);
  });
});
