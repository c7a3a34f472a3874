/**
 * Lockstep exchanges with a CoapEndpoint in the server role (RFC 7252 §4, §5.2): a scripted raw
 * UDP peer sends requests and checks every datagram the endpoint answers with.
 */
import type { CoapEndpoint, Responder } from '../../src/coap/endpoint';
import { Code, Method, MessageType, Opt } from '../../src/coap/message';
import { pathOptions, uriPath } from '../../src/coap/options';
import type { Peer } from '../../src/transport/types';
import { FAST, ScriptedPeer, endpointAddress, openEndpoint } from '../support/scripted-peer';

const TOKEN = Buffer.from('a1b2c3d4', 'hex');

describe('CoapEndpoint server role, lockstep (RFC 7252 §4, §5.2)', () => {
  let ep: CoapEndpoint;
  let peer: ScriptedPeer;
  let to: Peer;

  beforeEach(async () => {
    ep = await openEndpoint({ params: FAST, separateResponseDelayMs: 20 });
    peer = await ScriptedPeer.open();
    to = endpointAddress(ep);
  });

  afterEach(async () => {
    await peer.close();
    await ep.close();
  });

  it('CON GET answered synchronously → piggybacked ACK with the same MID and token (§5.2.1)', async () => {
    const seen: string[][] = [];
    ep.setRequestHandler((req, respond) => {
      seen.push(uriPath(req.message));
      respond({
        code: Code.CONTENT,
        options: [{ number: Opt.CONTENT_FORMAT, value: Buffer.alloc(0) }],
        payload: Buffer.from('22.3 C'),
      });
    });
    peer.send(
      {
        type: MessageType.CON,
        code: Method.GET,
        messageId: 0x7d34,
        token: TOKEN,
        options: pathOptions(['temperature']),
      },
      to,
    );
    const { msg, from } = await peer.next();
    expect(msg.type).toBe(MessageType.ACK);
    expect(msg.code).toBe(Code.CONTENT);
    expect(msg.messageId).toBe(0x7d34);
    expect(msg.token).toEqual(TOKEN);
    expect(msg.payload.toString()).toBe('22.3 C');
    expect(msg.options).toEqual([{ number: Opt.CONTENT_FORMAT, value: Buffer.alloc(0) }]);
    expect(from.port).toBe(to.port);
    expect(seen).toEqual([['temperature']]);
    expect(ep.stats.requestsIn).toBe(1);
  });

  it('a duplicate CON gets the same cached ACK; the handler runs once (§4.5)', async () => {
    let calls = 0;
    ep.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT, payload: Buffer.from(`call ${calls}`) });
    });
    const req = {
      type: MessageType.CON,
      code: Method.GET,
      messageId: 0x1111,
      token: TOKEN,
      options: pathOptions(['x']),
    };
    peer.send(req, to);
    const first = await peer.next();
    peer.send(req, to);
    const second = await peer.next();
    expect(second.raw).toEqual(first.raw);
    expect(second.msg.payload.toString()).toBe('call 1');
    expect(calls).toBe(1);
    expect(ep.stats.duplicates).toBe(1);
  });

  it('the same MID from another peer port is not a duplicate (§4.5: MID scope is the source endpoint)', async () => {
    let calls = 0;
    ep.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CHANGED });
    });
    const other = await ScriptedPeer.open();
    try {
      const req = { type: MessageType.CON, code: Method.POST, messageId: 0x2222, token: TOKEN };
      peer.send(req, to);
      other.send(req, to);
      expect((await peer.next()).msg.code).toBe(Code.CHANGED);
      expect((await other.next()).msg.code).toBe(Code.CHANGED);
      expect(calls).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('a late handler → empty ACK, then a separate CON response with a new MID and the request token, retransmitted until ACKed (§5.2.2, §4.2)', async () => {
    let respond: Responder | undefined;
    let calls = 0;
    ep.setRequestHandler((_req, r) => {
      calls++;
      respond = r;
    });
    const req = {
      type: MessageType.CON,
      code: Method.GET,
      messageId: 0x3333,
      token: TOKEN,
      options: pathOptions(['slow']),
    };
    peer.send(req, to);
    const emptyAck = await peer.next();
    expect(emptyAck.msg).toMatchObject({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x3333 });
    expect(emptyAck.msg.token.length).toBe(0);
    expect(emptyAck.raw.length).toBe(4);

    // A retransmitted request is answered with the empty ACK again, not given to the handler (§4.5).
    peer.send(req, to);
    expect((await peer.next()).raw).toEqual(emptyAck.raw);
    expect(calls).toBe(1);

    if (respond === undefined) throw new Error('handler not called');
    respond({ code: Code.CONTENT, payload: Buffer.from('late') });
    const sep = await peer.next();
    expect(sep.msg.type).toBe(MessageType.CON);
    expect(sep.msg.code).toBe(Code.CONTENT);
    expect(sep.msg.token).toEqual(TOKEN);
    expect(sep.msg.messageId).not.toBe(0x3333);
    expect(sep.msg.payload.toString()).toBe('late');

    // Not ACKed: retransmitted with the same MID and bytes after ACK_TIMEOUT..×ACK_RANDOM_FACTOR.
    const again = await peer.next();
    expect(again.raw).toEqual(sep.raw);
    expect(again.at - sep.at).toBeGreaterThanOrEqual(FAST.ackTimeoutMs - 5);
    expect(ep.stats.retransmissions).toBe(1);

    peer.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: sep.msg.messageId }, to);
    // Everything sent before our ACK was processed arrives before the ping's RST; nothing after it.
    const before = await peer.barrier(to, 0x9001);
    expect(before.every((r) => r.raw.equals(sep.raw))).toBe(true);
    await peer.expectSilence(FAST.ackTimeoutMs * 6);
    // A second respond() is ignored.
    respond({ code: Code.CONTENT, payload: Buffer.from('again') });
    await peer.expectSilence(FAST.ackTimeoutMs);
  });

  it('a separate CON response that the client resets is abandoned (§4.2)', async () => {
    let respond: Responder | undefined;
    ep.setRequestHandler((_req, r) => {
      respond = r;
    });
    peer.send({ type: MessageType.CON, code: Method.GET, messageId: 0x3434, token: TOKEN }, to);
    await peer.next(); // empty ACK
    respond?.({ code: Code.CONTENT, payload: Buffer.from('x') });
    const sep = await peer.next();
    peer.send({ type: MessageType.RST, code: Code.EMPTY, messageId: sep.msg.messageId }, to);
    await peer.barrier(to, 0x9002);
    await peer.expectSilence(FAST.ackTimeoutMs * 6);
    expect(ep.stats.resetsIn).toBe(1);
  });

  it('NON request → NON response with the request token (§5.2.3)', async () => {
    ep.setRequestHandler((_req, respond) => respond({ code: Code.CONTENT, payload: Buffer.from('non') }));
    peer.send({ type: MessageType.NON, code: Method.GET, messageId: 0x4444, token: TOKEN }, to);
    const { msg } = await peer.next();
    expect(msg.type).toBe(MessageType.NON);
    expect(msg.code).toBe(Code.CONTENT);
    expect(msg.token).toEqual(TOKEN);
    expect(msg.payload.toString()).toBe('non');
  });

  it('a late answer to a NON request is a NON response, without any empty ACK (§5.2.3)', async () => {
    let respond: Responder | undefined;
    ep.setRequestHandler((_req, r) => {
      respond = r;
    });
    peer.send({ type: MessageType.NON, code: Method.GET, messageId: 0x4545, token: TOKEN }, to);
    // Ping barriers show that nothing (no empty ACK) is sent while the handler is busy.
    expect(await peer.barrier(to, 0x9003)).toEqual([]);
    await peer.expectSilence(60); // > separateResponseDelayMs
    respond?.({ code: Code.CONTENT });
    const { msg } = await peer.next();
    expect(msg).toMatchObject({ type: MessageType.NON, code: Code.CONTENT });
    expect(msg.token).toEqual(TOKEN);
  });

  it('a duplicate NON request is silently ignored (§4.5)', async () => {
    let calls = 0;
    ep.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT });
    });
    const t1 = Buffer.from('01', 'hex');
    peer.send({ type: MessageType.NON, code: Method.GET, messageId: 0x5555, token: t1 }, to);
    peer.send({ type: MessageType.NON, code: Method.GET, messageId: 0x5555, token: t1 }, to);
    const before = await peer.barrier(to, 0x9004);
    expect(before.map((r) => r.msg.type)).toEqual([MessageType.NON]);
    expect(calls).toBe(1);
  });

  it('a handler that throws → 5.00 piggybacked (§5.9.3), and the endpoint keeps serving', async () => {
    ep.setRequestHandler((req, respond) => {
      if (uriPath(req.message)[0] === 'boom') throw new Error('boom');
      respond({ code: Code.CONTENT });
    });
    peer.send(
      { type: MessageType.CON, code: Method.GET, messageId: 0x6666, token: TOKEN, options: pathOptions(['boom']) },
      to,
    );
    expect((await peer.next()).msg).toMatchObject({
      type: MessageType.ACK,
      code: Code.INTERNAL_SERVER_ERROR,
      messageId: 0x6666,
    });
    peer.send(
      { type: MessageType.CON, code: Method.GET, messageId: 0x6667, token: TOKEN, options: pathOptions(['ok']) },
      to,
    );
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.ACK, code: Code.CONTENT, messageId: 0x6667 });
    expect(ep.stats.handlerErrors).toBe(1);
  });

  it('a request code in an ACK or RST is dropped as malformed (§4.2, §4.3)', async () => {
    let calls = 0;
    ep.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT });
    });
    peer.send({ type: MessageType.ACK, code: Method.GET, messageId: 0x7777, token: TOKEN }, to);
    peer.send({ type: MessageType.RST, code: Method.GET, messageId: 0x7778, token: TOKEN }, to);
    expect(await peer.barrier(to, 0x9005)).toEqual([]);
    expect(calls).toBe(0);
    expect(ep.stats.malformed).toBe(2);
  });
});
