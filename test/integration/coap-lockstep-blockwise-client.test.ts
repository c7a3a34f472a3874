/**
 * Client-side block-wise transfers (RFC 7959) through a CoapEndpoint, lockstep against a scripted
 * peer playing the device: Block1 with 2.31 Continue and SZX adoption (§2.3, §2.5), Block2 with
 * ETag consistency (§2.4), and notification completion without Observe (§2.6).
 */
import { BlockwiseClient, BlockwiseError } from '../../src/coap/blockwise-client';
import type { CoapEndpoint } from '../../src/coap/endpoint';
import { Code, Method, MessageType, Opt, type CoapMessage, type CoapOption } from '../../src/coap/message';
import {
  encodeBlock,
  getBlock,
  getOption,
  getUintOption,
  pathOptions,
  uintOption,
  uriPath,
  type BlockValue,
} from '../../src/coap/options';
import type { Peer } from '../../src/transport/types';
import { FAST, ScriptedPeer, openEndpoint, type Received } from '../support/scripted-peer';

const BODY = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff));
const block = (number: number, v: BlockValue): CoapOption => ({ number, value: encodeBlock(v) });
const etag = (s: string): CoapOption => ({ number: Opt.ETAG, value: Buffer.from(s) });

describe('BlockwiseClient over CoapEndpoint, lockstep (RFC 7959)', () => {
  let ep: CoapEndpoint;
  let peer: ScriptedPeer;
  let device: Peer;
  let client: BlockwiseClient;
  const back = (): Peer => ({ address: '127.0.0.1', port: ep.local().port });

  /** Answers a received CON request with a piggybacked response. */
  const answer = (r: Received, code: number, options: CoapOption[], payload?: Buffer): void => {
    peer.send(
      {
        type: MessageType.ACK,
        code,
        messageId: r.msg.messageId,
        token: r.msg.token,
        options,
        ...(payload ? { payload } : {}),
      },
      back(),
    );
  };

  /** Serves a Block2 response of `body` in blocks of `szx`, tagging each block with `tagOf(num)`. */
  async function serveBlocks(
    body: Buffer,
    szx: number,
    blocks: number,
    tagOf: (num: number) => string,
  ): Promise<CoapMessage[]> {
    const requests: CoapMessage[] = [];
    for (let i = 0; i < blocks; i++) {
      const r = await peer.next();
      requests.push(r.msg);
      const num = getBlock(r.msg, Opt.BLOCK2)?.num ?? 0;
      const size = 1 << (szx + 4);
      const more = (num + 1) * size < body.length;
      answer(
        r,
        Code.CONTENT,
        [etag(tagOf(num)), block(Opt.BLOCK2, { num, more, szx }), uintOption(Opt.SIZE2, body.length)],
        body.subarray(num * size, num * size + size),
      );
    }
    return requests;
  }

  beforeEach(async () => {
    // Retransmission is not under test here: a 1 s ACK_TIMEOUT keeps request copies out of the lockstep.
    ep = await openEndpoint({ params: { ...FAST, ackTimeoutMs: 1000 } });
    peer = await ScriptedPeer.open();
    device = peer.address;
    client = new BlockwiseClient(ep, { szx: 6, maxBodyBytes: 8192 });
  });

  afterEach(async () => {
    await peer.close();
    await ep.close();
  });

  it('sends 3000 bytes in Block1 blocks, adopting a smaller SZX from 2.31 Continue, then gets 2.04 (§2.3, §2.5)', async () => {
    const pending = client.request(device, { code: Method.PUT, options: pathOptions(['5', '0', '0']), payload: BODY });
    const parts: Buffer[] = [];
    const seen: BlockValue[] = [];
    for (;;) {
      const r = await peer.next();
      expect(r.msg.code).toBe(Method.PUT);
      expect(uriPath(r.msg)).toEqual(['5', '0', '0']);
      const b = getBlock(r.msg, Opt.BLOCK1);
      if (b === undefined) throw new Error('request without Block1');
      seen.push(b);
      // Size1 announces the total on the first block only (§4).
      expect(getUintOption(r.msg, Opt.SIZE1)).toBe(b.num === 0 ? 3000 : undefined);
      parts.push(r.msg.payload);
      if (!b.more) {
        answer(r, Code.CHANGED, [block(Opt.BLOCK1, b)]);
        break;
      }
      // The first answer asks for 512-byte blocks; later ones echo the client's block.
      answer(r, Code.CONTINUE, [block(Opt.BLOCK1, b.num === 0 ? { num: 0, more: true, szx: 5 } : b)]);
    }
    const res = await pending;
    expect(res.code).toBe(Code.CHANGED);
    expect(seen).toEqual([
      { num: 0, more: true, szx: 6 },
      { num: 2, more: true, szx: 5 },
      { num: 3, more: true, szx: 5 },
      { num: 4, more: true, szx: 5 },
      { num: 5, more: false, szx: 5 },
    ]);
    expect(parts.map((p) => p.length)).toEqual([1024, 512, 512, 512, 440]);
    expect(Buffer.concat(parts).equals(BODY)).toBe(true);
  });

  it('an error answer during Block1 ends the transfer with that response (§2.9.3)', async () => {
    const pending = client.request(device, { code: Method.PUT, options: [], payload: BODY });
    const r0 = await peer.next();
    answer(r0, Code.CONTINUE, [block(Opt.BLOCK1, { num: 0, more: true, szx: 6 })]);
    const r1 = await peer.next();
    answer(r1, Code.REQUEST_ENTITY_TOO_LARGE, [uintOption(Opt.SIZE1, 1500)]);
    const res = await pending;
    expect(res.code).toBe(Code.REQUEST_ENTITY_TOO_LARGE);
    expect(getUintOption(res, Opt.SIZE1)).toBe(1500);
    expect(await peer.barrier(back(), 0x9300)).toEqual([]);
  });

  it('a small payload goes in a single request without Block1', async () => {
    const pending = client.request(device, { code: Method.POST, options: [], payload: Buffer.alloc(100, 1) });
    const r = await peer.next();
    expect(getOption(r.msg, Opt.BLOCK1)).toBeUndefined();
    answer(r, Code.CHANGED, []);
    expect((await pending).code).toBe(Code.CHANGED);
  });

  it('reads a response delivered in 3 Block2 blocks with a constant ETag (§2.4)', async () => {
    const body = BODY.subarray(0, 2500);
    const pending = client.request(device, { code: Method.GET, options: pathOptions(['3', '0']) });
    const requests = await serveBlocks(body, 6, 3, () => 'v1');
    const res = await pending;
    expect(res.code).toBe(Code.CONTENT);
    expect(res.payload.equals(body)).toBe(true);
    expect(getOption(res, Opt.BLOCK2)).toBeUndefined();
    expect(getOption(res, Opt.SIZE2)).toBeUndefined();
    expect(getOption(res, Opt.ETAG)).toEqual(Buffer.from('v1'));
    expect(requests.map((m) => getBlock(m, Opt.BLOCK2)?.num)).toEqual([undefined, 1, 2]);
    for (const m of requests) expect(uriPath(m)).toEqual(['3', '0']);
  });

  it('an ETag change between blocks → BlockwiseError (§2.4)', async () => {
    const pending = client.request(device, { code: Method.GET, options: pathOptions(['3', '0']) });
    const outcome = pending.then(
      () => undefined,
      (err: unknown) => err,
    );
    await serveBlocks(BODY.subarray(0, 2500), 6, 2, (num) => (num === 0 ? 'v1' : 'v2'));
    expect(await outcome).toBeInstanceOf(BlockwiseError);
  });

  it('a body over maxBodyBytes → BlockwiseError', async () => {
    const small = new BlockwiseClient(ep, { szx: 6, maxBodyBytes: 2000 });
    const outcome = small.request(device, { code: Method.GET, options: [] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await serveBlocks(BODY, 6, 2, () => 'v1');
    expect(await outcome).toBeInstanceOf(BlockwiseError);
  });

  it('a block the server did not ask for (wrong NUM) → BlockwiseError, not a corrupted body (§2.4)', async () => {
    const outcome = client.request(device, { code: Method.GET, options: [] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const r0 = await peer.next();
    answer(r0, Code.CONTENT, [block(Opt.BLOCK2, { num: 0, more: true, szx: 6 })], BODY.subarray(0, 1024));
    const r1 = await peer.next();
    expect(getBlock(r1.msg, Opt.BLOCK2)).toEqual({ num: 1, more: false, szx: 6 });
    answer(r1, Code.CONTENT, [block(Opt.BLOCK2, { num: 2, more: false, szx: 6 })], BODY.subarray(2048, 3000));
    expect(await outcome).toBeInstanceOf(BlockwiseError);
  });

  it('a server switching to smaller blocks mid-transfer is followed, renumbering from the byte offset (§2.4)', async () => {
    const pending = client.request(device, { code: Method.GET, options: [] });
    const r0 = await peer.next();
    answer(r0, Code.CONTENT, [block(Opt.BLOCK2, { num: 0, more: true, szx: 6 })], BODY.subarray(0, 1024));
    const r1 = await peer.next();
    answer(r1, Code.CONTENT, [block(Opt.BLOCK2, { num: 2, more: true, szx: 5 })], BODY.subarray(1024, 1536));
    const r2 = await peer.next();
    expect(getBlock(r2.msg, Opt.BLOCK2)).toEqual({ num: 3, more: false, szx: 5 });
    answer(r2, Code.CONTENT, [block(Opt.BLOCK2, { num: 3, more: false, szx: 5 })], BODY.subarray(1536, 2048));
    expect((await pending).payload.equals(BODY.subarray(0, 2048))).toBe(true);
  });

  it('completes a notification whose Block2 has M=1 with GETs that carry no Observe (§2.6)', async () => {
    const body = BODY.subarray(0, 1500);
    const first: CoapMessage = {
      type: MessageType.CON,
      code: Code.CONTENT,
      messageId: 1,
      token: Buffer.from('0b5e', 'hex'),
      options: [uintOption(Opt.OBSERVE, 12), etag('n12'), block(Opt.BLOCK2, { num: 0, more: true, szx: 6 })],
      payload: body.subarray(0, 1024),
    };
    const pending = client.completeBlock2(
      device,
      { code: Method.GET, options: [uintOption(Opt.OBSERVE, 0), ...pathOptions(['3303', '0'])] },
      first,
    );
    const r = await peer.next();
    expect(r.msg.code).toBe(Method.GET);
    expect(getOption(r.msg, Opt.OBSERVE)).toBeUndefined();
    expect(uriPath(r.msg)).toEqual(['3303', '0']);
    expect(getBlock(r.msg, Opt.BLOCK2)).toEqual({ num: 1, more: false, szx: 6 });
    answer(r, Code.CONTENT, [etag('n12'), block(Opt.BLOCK2, { num: 1, more: false, szx: 6 })], body.subarray(1024));
    const whole = await pending;
    expect(whole.payload.equals(body)).toBe(true);
  });
});
