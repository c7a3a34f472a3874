/**
 * The CoAP layer's limits (DESIGN invariant 5) without sockets: message size (4.13 with Size1,
 * RFC 7959 §2.9.3), option count (4.00 / RST / dropped), the per-endpoint request rate (5.03 with
 * Max-Age, RFC 7252 §5.9.3.4; NON dropped), and block-wise bytes per source address.
 */
import { DEVICE_PEER, MemoryDatagramPair } from '../../test/support/memory-datagram-pair';
import { FAST } from '../../test/support/scripted-peer';
import { LimitCounters } from '../transport/limit-counters';
import { TokenBuckets } from '../transport/token-buckets';
import type { Peer } from '../transport/types';
import { BlockwiseServer } from './blockwise-server';
import { encode } from './codec';
import { CoapEndpoint, type RequestHandler } from './endpoint';
import { Code, EMPTY_BUFFER, MessageType, Method, Opt, type CoapOption } from './message';
import { encodeBlock, getUintOption, pathOptions } from './options';
import { limitRequests } from './request-limiter';

const TOKEN = Buffer.from('0badc0de', 'hex');
let pair: MemoryDatagramPair;
let endpoint: CoapEndpoint | undefined;
let counters: LimitCounters;

beforeEach(() => {
  pair = new MemoryDatagramPair();
  counters = new LimitCounters();
});
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
  await pair.close();
});

function open(handler: RequestHandler = (_r, respond) => respond({ code: Code.CHANGED })): CoapEndpoint {
  endpoint = new CoapEndpoint({
    transport: pair.server,
    params: FAST,
    maxMessageBytes: 200,
    maxOptions: 8,
    limits: counters,
  });
  endpoint.setRequestHandler(handler);
  return endpoint;
}

const post = (type: MessageType, messageId: number, options: CoapOption[], payload = EMPTY_BUFFER) =>
  encode({ type, code: Method.POST, messageId, token: TOKEN, options, payload });

describe('message size (COAP_MAX_MESSAGE_BYTES)', () => {
  it('answers a CON request over the limit 4.13 with Size1 and its token, without calling the handler', async () => {
    const calls: unknown[] = [];
    open((r, respond) => {
      calls.push(r);
      respond({ code: Code.CHANGED });
    });
    pair.deviceSend(post(MessageType.CON, 0x1201, pathOptions(['dp']), Buffer.alloc(300, 7)));
    const [answer, ...rest] = await pair.received();
    expect(rest).toEqual([]);
    expect(answer?.msg).toMatchObject({
      type: MessageType.ACK,
      code: Code.REQUEST_ENTITY_TOO_LARGE,
      messageId: 0x1201,
      token: TOKEN,
    });
    expect(answer && getUintOption(answer.msg, Opt.SIZE1)).toBe(200);
    expect(calls).toEqual([]);
    expect(counters.get('message-too-large')).toBe(1);
  });

  it('drops a NON request, a response and random bytes over the limit without an answer', async () => {
    open();
    pair.deviceSend(post(MessageType.NON, 0x1202, pathOptions(['dp']), Buffer.alloc(300, 7)));
    pair.deviceSend(
      encode({
        type: MessageType.CON,
        code: Code.CONTENT,
        messageId: 3,
        token: TOKEN,
        options: [],
        payload: Buffer.alloc(300),
      }),
    );
    pair.deviceSend(Buffer.alloc(5000, 0xff));
    expect(await pair.received()).toEqual([]);
    expect(counters.get('message-too-large')).toBe(3);
  });

  it('takes a message of exactly the limit', async () => {
    open();
    const head = post(MessageType.CON, 0x1203, pathOptions(['dp']), Buffer.alloc(1));
    pair.deviceSend(post(MessageType.CON, 0x1203, pathOptions(['dp']), Buffer.alloc(200 - head.length + 1, 1)));
    const [answer] = await pair.received();
    expect(answer?.msg.code).toBe(Code.CHANGED);
  });
});

describe('option count (COAP_MAX_OPTIONS)', () => {
  const many = (n: number): CoapOption[] =>
    Array.from({ length: n }, () => ({ number: Opt.URI_PATH, value: Buffer.from('a') }));

  it('answers a CON request with more options than the limit 4.00 naming it', async () => {
    open();
    pair.deviceSend(post(MessageType.CON, 0x1301, many(9)));
    const [answer, ...rest] = await pair.received();
    expect(rest).toEqual([]);
    expect(answer?.msg).toMatchObject({
      type: MessageType.ACK,
      code: Code.BAD_REQUEST,
      messageId: 0x1301,
      token: TOKEN,
    });
    expect(answer?.msg.payload.toString()).toBe('more than 8 options');
    expect(counters.get('too-many-options')).toBe(1);
  });

  it('rejects a CON response with too many options with RST, drops a NON, takes exactly the limit', async () => {
    open();
    pair.deviceSend(
      encode({
        type: MessageType.CON,
        code: Code.CONTENT,
        messageId: 0x1302,
        token: TOKEN,
        options: many(9),
        payload: EMPTY_BUFFER,
      }),
    );
    pair.deviceSend(post(MessageType.NON, 0x1303, many(20)));
    const answers = await pair.received();
    expect(answers.map((a) => [a.msg.type, a.msg.code, a.msg.messageId])).toEqual([
      [MessageType.RST, Code.EMPTY, 0x1302],
    ]);
    pair.deviceSend(post(MessageType.CON, 0x1304, many(8)));
    const [ok] = await pair.received();
    expect(ok?.msg.code).toBe(Code.CHANGED);
    expect(counters.get('too-many-options')).toBe(2);
  });
});

describe('per-endpoint request rate (limitRequests)', () => {
  function limited(perSecond: number, burst: number, clock: () => number): RequestHandler {
    const buckets = new TokenBuckets({ perSecond, burst }, 100, clock);
    return limitRequests((_r, respond) => respond({ code: Code.CHANGED }), {
      buckets,
      keyOf: (req) => (req.message.options.length > 0 ? req.message.options[0]?.value.toString() : undefined),
      counters,
    });
  }

  it('answers a CON over the rate 5.03 with Max-Age = seconds until its next token; other keys pass', async () => {
    let t = 0;
    open(limited(0.25, 2, () => t));
    for (let i = 0; i < 3; i++) pair.deviceSend(post(MessageType.CON, 0x1400 + i, pathOptions(['dev-a'])));
    pair.deviceSend(post(MessageType.CON, 0x1410, pathOptions(['dev-b'])));
    const answers = await pair.received();
    expect(answers.map((a) => a.msg.code)).toEqual([
      Code.CHANGED,
      Code.CHANGED,
      Code.SERVICE_UNAVAILABLE,
      Code.CHANGED,
    ]);
    expect(getUintOption(answers[2]!.msg, Opt.MAX_AGE)).toBe(4); // 1 token at 0.25/s
    expect(counters.get('endpoint-rate')).toBe(1);
    // Its retransmission gets the same 5.03 from the deduplication cache (RFC 7252 §4.5), not counted again.
    pair.deviceSend(post(MessageType.CON, 0x1402, pathOptions(['dev-a'])));
    const [again] = await pair.received();
    expect(again?.msg.code).toBe(Code.SERVICE_UNAVAILABLE);
    expect(counters.get('endpoint-rate')).toBe(1);
    t += 4000;
    pair.deviceSend(post(MessageType.CON, 0x1403, pathOptions(['dev-a'])));
    expect((await pair.received()).map((a) => a.msg.code)).toEqual([Code.CHANGED]);
  });

  it('drops a NON over the rate without an answer; requests without a key are not limited', async () => {
    open(limited(1, 1, () => 0));
    pair.deviceSend(post(MessageType.NON, 0x1501, pathOptions(['dev-a'])));
    pair.deviceSend(post(MessageType.NON, 0x1502, pathOptions(['dev-a'])));
    for (let i = 0; i < 5; i++) pair.deviceSend(post(MessageType.CON, 0x1510 + i, []));
    const answers = await pair.received();
    expect(answers.map((a) => [a.msg.type, a.msg.code])).toEqual([
      [MessageType.NON, Code.CHANGED],
      ...Array.from({ length: 5 }, () => [MessageType.ACK, Code.CHANGED]),
    ]);
    expect(counters.get('endpoint-rate')).toBe(1);
  });
});

describe('block-wise bytes per source address (COAP_MAX_REASSEMBLY_BYTES_PER_SOURCE)', () => {
  const OTHER: Peer = { address: '203.0.113.77', port: 5000 };
  const block = (num: number, more: boolean, peerPort: number) =>
    post(
      MessageType.CON,
      0x1600 + num + peerPort,
      [...pathOptions(['dp']), { number: Opt.BLOCK1, value: encodeBlock({ num, more, szx: 2 }) }],
      Buffer.alloc(64, num),
    );

  it('refuses a source its next block with 5.03 once its bodies hold the budget; another source still gets through', async () => {
    const blockwise = new BlockwiseServer((_r, respond) => respond({ code: Code.CHANGED }), {
      maxBodyBytes: 1024,
      maxConcurrent: 100,
      maxTotalBytes: 1 << 20,
      preferredSzx: 6,
      lifetimeMs: 60_000,
      maxSourceBytes: 128,
      limits: counters,
    });
    open(blockwise.handle);
    // Two bodies of one address (two ports), 64 bytes each: 128 held, the next block is over.
    pair.deviceSend(block(0, true, 1), { ...DEVICE_PEER, port: 1 });
    pair.deviceSend(block(0, true, 2), { ...DEVICE_PEER, port: 2 });
    pair.deviceSend(block(1, true, 1), { ...DEVICE_PEER, port: 1 });
    pair.deviceSend(block(0, true, 3), OTHER);
    const answers = await pair.received();
    expect(answers.map((a) => a.msg.code)).toEqual([
      Code.CONTINUE,
      Code.CONTINUE,
      Code.SERVICE_UNAVAILABLE,
      Code.CONTINUE,
    ]);
    expect(getUintOption(answers[2]!.msg, Opt.MAX_AGE)).toBe(5);
    expect(counters.get('source-reassembly')).toBe(1);
    expect(blockwise.reassemblyBytes).toBe(128); // the refused body was dropped: 64 (port 2) + 64 (other)
  });
});
