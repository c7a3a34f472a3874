/**
 * Server-side block-wise transfers (RFC 7959) through a CoapEndpoint, lockstep against a scripted
 * peer: Block1 reassembly with 2.31 Continue (§2.3, §2.5), 4.08 (§2.9.2), 4.13 with Size1 (§2.9.3,
 * §4), Block2 slicing with Size2 (§2.4, §4) and option value errors (RFC 7252 §5.4.3).
 */
import { BlockwiseServer, type BlockwiseServerOptions } from '../../src/coap/blockwise-server';
import type { CoapEndpoint, InboundRequest, Responder } from '../../src/coap/endpoint';
import { Code, Method, MessageType, Opt, type CoapMessage, type CoapOption } from '../../src/coap/message';
import { encodeBlock, getBlock, getUintOption, pathOptions, uintOption, type BlockValue } from '../../src/coap/options';
import type { Peer } from '../../src/transport/types';
import { FAST, ScriptedPeer, endpointAddress, openEndpoint } from '../support/scripted-peer';

const BODY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
const LARGE = Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 13) & 0xff));
const block1 = (v: BlockValue): CoapOption => ({ number: Opt.BLOCK1, value: encodeBlock(v) });
const block2 = (v: BlockValue): CoapOption => ({ number: Opt.BLOCK2, value: encodeBlock(v) });

describe('BlockwiseServer over CoapEndpoint, lockstep (RFC 7959)', () => {
  let ep: CoapEndpoint;
  let peer: ScriptedPeer;
  let to: Peer;
  let received: CoapMessage[];
  let mid: number;

  async function setup(opts: Partial<BlockwiseServerOptions> = {}): Promise<BlockwiseServer> {
    const inner = (req: InboundRequest, respond: Responder): void => {
      received.push(req.message);
      if (req.message.code === Method.GET)
        respond({ code: Code.CONTENT, options: [uintOption(Opt.CONTENT_FORMAT, 42)], payload: LARGE });
      else respond({ code: Code.CHANGED, payload: Buffer.from(`got ${req.message.payload.length}`) });
    };
    const bw = new BlockwiseServer(inner, {
      maxBodyBytes: 4000,
      maxConcurrent: 4,
      maxTotalBytes: 1 << 20,
      preferredSzx: 6,
      lifetimeMs: 60_000,
      ...opts,
    });
    ep.setRequestHandler(bw.handle);
    return bw;
  }

  /** Sends one CON request and returns the piggybacked response. */
  async function exchange(code: number, options: CoapOption[], payload?: Buffer): Promise<CoapMessage> {
    const messageId = mid++;
    peer.send(
      {
        type: MessageType.CON,
        code,
        messageId,
        token: Buffer.from([messageId & 0xff]),
        options,
        ...(payload ? { payload } : {}),
      },
      to,
    );
    const { msg } = await peer.next();
    expect(msg).toMatchObject({ type: MessageType.ACK, messageId });
    return msg;
  }

  const put = (b: BlockValue, size: number, extra: CoapOption[] = []): Promise<CoapMessage> =>
    exchange(
      Method.PUT,
      [...pathOptions(['5', '0', '0']), block1(b), ...extra],
      BODY.subarray(b.num * size, b.num * size + size),
    );

  beforeEach(async () => {
    ep = await openEndpoint({ params: FAST });
    peer = await ScriptedPeer.open();
    to = endpointAddress(ep);
    received = [];
    mid = 0x100;
  });

  afterEach(async () => {
    await peer.close();
    await ep.close();
  });

  it('Block1 upload of 3000 bytes: 2.31 Continue per block, final response echoes Block1 (§2.3, §2.5)', async () => {
    const bw = await setup();
    const r0 = await put({ num: 0, more: true, szx: 6 }, 1024, [uintOption(Opt.SIZE1, 3000)]);
    expect(r0.code).toBe(Code.CONTINUE);
    expect(getBlock(r0, Opt.BLOCK1)).toEqual({ num: 0, more: true, szx: 6 });
    const r1 = await put({ num: 1, more: true, szx: 6 }, 1024);
    expect(r1.code).toBe(Code.CONTINUE);
    expect(getBlock(r1, Opt.BLOCK1)).toEqual({ num: 1, more: true, szx: 6 });
    expect(received).toHaveLength(0);
    expect(bw.reassemblies).toBe(1);
    const r2 = await put({ num: 2, more: false, szx: 6 }, 1024);
    expect(r2.code).toBe(Code.CHANGED);
    expect(getBlock(r2, Opt.BLOCK1)).toEqual({ num: 2, more: false, szx: 6 });
    expect(r2.payload.toString()).toBe('got 3000');
    expect(received).toHaveLength(1);
    expect(received[0]?.payload.equals(BODY)).toBe(true);
    // The handler sees the whole body without the transfer options.
    expect(getBlock(received[0] as CoapMessage, Opt.BLOCK1)).toBeUndefined();
    expect(getUintOption(received[0] as CoapMessage, Opt.SIZE1)).toBeUndefined();
    expect(bw.reassemblies).toBe(0);
  });

  it('a server preferring smaller blocks answers 2.31 with its SZX; the client renumbers (§2.3 late negotiation)', async () => {
    await setup({ preferredSzx: 5 });
    const r0 = await put({ num: 0, more: true, szx: 6 }, 1024);
    expect(getBlock(r0, Opt.BLOCK1)).toEqual({ num: 0, more: true, szx: 5 });
    // 1024 bytes received: next is block 2 of 512 bytes.
    for (let num = 2; num <= 4; num++) expect((await put({ num, more: true, szx: 5 }, 512)).code).toBe(Code.CONTINUE);
    const last = await put({ num: 5, more: false, szx: 5 }, 512);
    expect(last.code).toBe(Code.CHANGED);
    expect(received[0]?.payload.equals(BODY)).toBe(true);
  });

  it('an out-of-order block → 4.08 Request Entity Incomplete, reassembly dropped (§2.9.2)', async () => {
    const bw = await setup();
    await put({ num: 0, more: true, szx: 6 }, 1024);
    const skip = await put({ num: 2, more: false, szx: 6 }, 1024);
    expect(skip.code).toBe(Code.REQUEST_ENTITY_INCOMPLETE);
    expect(bw.reassemblies).toBe(0);
    // A continuation without block 0 is incomplete too.
    expect((await put({ num: 1, more: true, szx: 6 }, 1024)).code).toBe(Code.REQUEST_ENTITY_INCOMPLETE);
    expect(received).toHaveLength(0);
    expect(bw.rejectedIncomplete).toBe(2);
  });

  it('Size1 above the limit → 4.13 with Size1 telling the limit (§2.9.3, §4)', async () => {
    const bw = await setup({ maxBodyBytes: 2000 });
    const r = await put({ num: 0, more: true, szx: 6 }, 1024, [uintOption(Opt.SIZE1, 3000)]);
    expect(r.code).toBe(Code.REQUEST_ENTITY_TOO_LARGE);
    expect(getUintOption(r, Opt.SIZE1)).toBe(2000);
    expect(bw.rejectedTooLarge).toBe(1);
  });

  it('a body growing past the limit without Size1 → 4.13 with Size1 (§2.9.3)', async () => {
    const bw = await setup({ maxBodyBytes: 2000 });
    expect((await put({ num: 0, more: true, szx: 6 }, 1024)).code).toBe(Code.CONTINUE);
    const r = await put({ num: 1, more: true, szx: 6 }, 1024);
    expect(r.code).toBe(Code.REQUEST_ENTITY_TOO_LARGE);
    expect(getUintOption(r, Opt.SIZE1)).toBe(2000);
    expect(bw.reassemblies).toBe(0);
    expect(received).toHaveLength(0);
  });

  it('a non-final block of the wrong size → 4.00 (§2.2), SZX 7 → 4.00 (BERT is for TCP only)', async () => {
    await setup();
    const short = await exchange(Method.PUT, [block1({ num: 0, more: true, szx: 6 })], Buffer.alloc(1000));
    expect(short.code).toBe(Code.BAD_REQUEST);
    const bert = await exchange(Method.PUT, [block1({ num: 0, more: true, szx: 7 })], Buffer.alloc(1024));
    expect(bert.code).toBe(Code.BAD_REQUEST);
  });

  it('a Block1/Block2 value longer than 3 bytes → 4.02 Bad Option, not 5.00; an over-long Size1 is ignored (RFC 7252 §5.4.3, RFC 7959 §2.2)', async () => {
    await setup();
    const b1 = await exchange(
      Method.PUT,
      [{ number: Opt.BLOCK1, value: Buffer.from('0000000e', 'hex') }],
      Buffer.alloc(16),
    );
    expect(b1.code).toBe(Code.BAD_OPTION);
    const b2 = await exchange(Method.GET, [{ number: Opt.BLOCK2, value: Buffer.from('00000006', 'hex') }]);
    expect(b2.code).toBe(Code.BAD_OPTION);
    // Size1 is elective: an over-long value is ignored rather than failing the transfer.
    const size1 = await put({ num: 0, more: true, szx: 6 }, 1024, [{ number: Opt.SIZE1, value: Buffer.alloc(5, 1) }]);
    expect(size1.code).toBe(Code.CONTINUE);
    expect(ep.stats.handlerErrors).toBe(0);
    expect(received).toHaveLength(0);
  });

  it('too many concurrent reassemblies → 5.03 with Max-Age', async () => {
    await setup({ maxConcurrent: 1 });
    await put({ num: 0, more: true, szx: 6 }, 1024);
    const other = await exchange(
      Method.PUT,
      [...pathOptions(['other']), block1({ num: 0, more: true, szx: 6 })],
      BODY.subarray(0, 1024),
    );
    expect(other.code).toBe(Code.SERVICE_UNAVAILABLE);
    expect(getUintOption(other, Opt.MAX_AGE)).toBeGreaterThan(0);
  });

  it('reassemblies over the total byte budget → 5.03 with Max-Age, and the bytes are released', async () => {
    const bw = await setup({ maxTotalBytes: 1536 });
    await put({ num: 0, more: true, szx: 6 }, 1024);
    expect(bw.reassemblyBytes).toBe(1024);
    const other = await exchange(
      Method.PUT,
      [...pathOptions(['other']), block1({ num: 0, more: true, szx: 6 })],
      BODY.subarray(0, 1024),
    );
    expect(other.code).toBe(Code.SERVICE_UNAVAILABLE);
    expect(getUintOption(other, Opt.MAX_AGE)).toBeGreaterThan(0);
    expect(bw.reassemblyBytes).toBe(1024);
    expect(bw.rejectedBusy).toBe(1);
  });

  it('a large response is sliced with Block2 and Size2; later blocks are served on request (§2.4, §4)', async () => {
    await setup();
    const first = await exchange(Method.GET, pathOptions(['big']));
    expect(first.code).toBe(Code.CONTENT);
    expect(getBlock(first, Opt.BLOCK2)).toEqual({ num: 0, more: true, szx: 6 });
    expect(getUintOption(first, Opt.SIZE2)).toBe(2500);
    expect(getUintOption(first, Opt.CONTENT_FORMAT)).toBe(42);
    expect(first.payload.equals(LARGE.subarray(0, 1024))).toBe(true);
    const second = await exchange(Method.GET, [...pathOptions(['big']), block2({ num: 1, more: false, szx: 6 })]);
    expect(getBlock(second, Opt.BLOCK2)).toEqual({ num: 1, more: true, szx: 6 });
    expect(second.payload.equals(LARGE.subarray(1024, 2048))).toBe(true);
    const last = await exchange(Method.GET, [...pathOptions(['big']), block2({ num: 2, more: false, szx: 6 })]);
    expect(getBlock(last, Opt.BLOCK2)).toEqual({ num: 2, more: false, szx: 6 });
    expect(last.payload.equals(LARGE.subarray(2048))).toBe(true);
    expect(Buffer.concat([first.payload, second.payload, last.payload]).equals(LARGE)).toBe(true);
  });

  it('Block2 with a smaller SZX is honoured (early negotiation, §2.4); a block past the end is rejected', async () => {
    await setup();
    const r = await exchange(Method.GET, [...pathOptions(['big']), block2({ num: 5, more: false, szx: 4 })]);
    expect(getBlock(r, Opt.BLOCK2)).toEqual({ num: 5, more: true, szx: 4 });
    expect(r.payload.equals(LARGE.subarray(1280, 1536))).toBe(true);
    const past = await exchange(Method.GET, [...pathOptions(['big']), block2({ num: 3, more: false, szx: 6 })]);
    expect(past.code).toBe(Code.BAD_OPTION);
  });

  it('a client asking for blocks larger than preferred gets the preferred size, renumbered (§2.4)', async () => {
    await setup({ preferredSzx: 4 });
    const r = await exchange(Method.GET, [...pathOptions(['big']), block2({ num: 1, more: false, szx: 6 })]);
    expect(getBlock(r, Opt.BLOCK2)).toEqual({ num: 4, more: true, szx: 4 });
    expect(r.payload.equals(LARGE.subarray(1024, 1280))).toBe(true);
  });
});
