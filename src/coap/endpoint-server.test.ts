/**
 * The CoAP message layer as a server (RFC 7252 §4, §5.2) without sockets: requests from the device
 * side of the in-memory datagram pair, every datagram the endpoint sends checked in lockstep.
 */
import { DEVICE_PEER } from '../../test/support/memory-datagram-pair';
import { OTHER_PEER, TOKEN, get, holdingHandler, useEndpointHarness } from '../../test/support/coap-endpoint-harness';
import { FAST } from '../../test/support/scripted-peer';
import type { Peer, PeerIdentity } from '../transport/types';
import { Code, EMPTY_BUFFER, MessageType, Opt } from './message';
import { pathOptions, uriPath } from './options';
import type { DropReason } from './stats';

const h = useEndpointHarness();

describe('inbound requests (server role, RFC 7252 §5.2)', () => {
  it('a CON request answered at once gets a piggybacked ACK with its Message ID and token, sent to the requester (§5.2.1)', async () => {
    const endpoint = h.open();
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
    h.pair.sendCoap(get(0x7d34), DEVICE_PEER, identity);
    const [ack, ...rest] = await h.pair.received();
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
    const endpoint = h.open({ fakeClock: true, separateResponseDelayMs: 100 });
    const { requests, responders } = holdingHandler(endpoint);
    h.pair.sendCoap(get(0x3333));
    expect(await h.pair.received()).toEqual([]);
    expect(requests).toHaveLength(1);

    await h.advance(99);
    expect(await h.pair.received()).toEqual([]);
    await h.advance(1);
    const [emptyAck, ...more] = await h.pair.received();
    expect(more).toEqual([]);
    expect(emptyAck?.data).toHaveLength(4);
    expect(emptyAck?.msg).toMatchObject({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x3333 });

    // The request repeated after the empty ACK gets the empty ACK again, not a second handler call (§4.5).
    h.pair.sendCoap(get(0x3333));
    expect((await h.pair.received()).map((d) => d.data)).toEqual([emptyAck?.data]);
    expect(requests).toHaveLength(1);

    responders[0]?.({ code: Code.CONTENT, payload: Buffer.from('late') });
    const [separate] = await h.pair.received();
    expect(separate?.msg).toMatchObject({ type: MessageType.CON, code: Code.CONTENT, token: TOKEN });
    expect(separate?.msg.messageId).not.toBe(0x3333);
    expect(separate?.msg.payload.toString()).toBe('late');

    await h.advance(FAST.ackTimeoutMs - 1);
    expect(await h.pair.received()).toEqual([]);
    await h.advance(1);
    expect((await h.pair.received()).map((d) => d.data)).toEqual([separate?.data]);
    expect(endpoint.stats.retransmissions).toBe(1);

    h.pair.sendCoap({ type: MessageType.ACK, code: Code.EMPTY, messageId: separate?.msg.messageId ?? -1 });
    await h.pair.settle();
    await h.advance(FAST.ackTimeoutMs * 40);
    expect(await h.pair.received()).toEqual([]);
    expect(endpoint.stats.retransmissions).toBe(1);
    // A second respond() for the same request is ignored.
    responders[0]?.({ code: Code.CONTENT, payload: Buffer.from('again') });
    expect(await h.pair.received()).toEqual([]);
  });

  it('a duplicate CON gets the cached response again; the handler runs once (§4.5)', async () => {
    const endpoint = h.open();
    let calls = 0;
    endpoint.setRequestHandler((_req, respond) =>
      respond({ code: Code.CONTENT, payload: Buffer.from(`call ${++calls}`) }),
    );
    h.pair.duplicate('to-server');
    h.pair.sendCoap(get(0x1111));
    const replies = await h.pair.received();
    expect(replies).toHaveLength(2);
    expect(replies[1]?.data).toEqual(replies[0]?.data);
    expect(replies[0]?.msg.payload.toString()).toBe('call 1');
    expect(calls).toBe(1);
    expect(endpoint.stats.duplicates).toBe(1);
  });

  it('a duplicate CON that arrives before any reply is absorbed; later ones get the reply (§4.5)', async () => {
    const endpoint = h.open();
    const { requests, responders } = holdingHandler(endpoint);
    h.pair.sendCoap(get(0x1212));
    h.pair.sendCoap(get(0x1212));
    expect(await h.pair.received()).toEqual([]);
    expect(requests).toHaveLength(1);
    responders[0]?.({ code: Code.CHANGED });
    const [ack] = await h.pair.received();
    expect(ack?.msg).toMatchObject({ type: MessageType.ACK, code: Code.CHANGED, messageId: 0x1212 });
    h.pair.sendCoap(get(0x1212));
    expect((await h.pair.received()).map((d) => d.data)).toEqual([ack?.data]);
    expect(requests).toHaveLength(1);
  });

  it('the same Message ID from another source is not a duplicate, and each reply goes to its sender (§4.5)', async () => {
    const endpoint = h.open();
    endpoint.setRequestHandler((req, respond) =>
      respond({ code: Code.CHANGED, payload: Buffer.from(String(req.peer.port)) }),
    );
    h.pair.sendCoap(get(0x2222));
    h.pair.sendCoap(get(0x2222), OTHER_PEER);
    const replies = await h.pair.received();
    expect(replies.map((d) => [d.peer, d.msg.payload.toString()])).toEqual([
      [DEVICE_PEER, String(DEVICE_PEER.port)],
      [OTHER_PEER, String(OTHER_PEER.port)],
    ]);
    expect(endpoint.stats.duplicates).toBe(0);
  });

  it('a NON request gets a NON response with its token, never an ACK; a duplicate NON is ignored (§5.2.3, §4.5)', async () => {
    const endpoint = h.open({ separateResponseDelayMs: 20 });
    let calls = 0;
    endpoint.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT, payload: Buffer.from('non') });
    });
    h.pair.sendCoap(get(0x4444, { type: MessageType.NON }));
    h.pair.sendCoap(get(0x4444, { type: MessageType.NON }));
    const replies = await h.pair.received();
    expect(replies.map((d) => d.msg.type)).toEqual([MessageType.NON]);
    expect(replies[0]?.msg).toMatchObject({ code: Code.CONTENT, token: TOKEN });
    expect(replies[0]?.msg.payload.toString()).toBe('non');
    expect(calls).toBe(1);
  });

  it('a late answer to a NON request is a NON response, with no empty ACK before it (§5.2.3)', async () => {
    const endpoint = h.open({ fakeClock: true, separateResponseDelayMs: 20 });
    const { responders } = holdingHandler(endpoint);
    h.pair.sendCoap(get(0x4545, { type: MessageType.NON }));
    await h.pair.settle();
    await h.advance(1000);
    expect(await h.pair.received()).toEqual([]);
    responders[0]?.({ code: Code.CONTENT });
    const replies = await h.pair.received();
    expect(replies.map((d) => d.msg)).toMatchObject([{ type: MessageType.NON, code: Code.CONTENT, token: TOKEN }]);
  });

  it('a handler that throws gives 5.00, and the endpoint keeps serving', async () => {
    const endpoint = h.open();
    endpoint.setRequestHandler((req, respond) => {
      if (uriPath(req.message)[0] === 'boom') throw new Error('boom');
      respond({ code: Code.CONTENT });
    });
    h.pair.sendCoap(get(0x6666, { options: pathOptions(['boom']) }));
    h.pair.sendCoap(get(0x6667));
    expect((await h.pair.received()).map((d) => [d.msg.messageId, d.msg.code])).toEqual([
      [0x6666, Code.INTERNAL_SERVER_ERROR],
      [0x6667, Code.CONTENT],
    ]);
    expect(endpoint.stats.handlerErrors).toBe(1);
    expect(h.drops).toEqual([{ reason: 'handler-error', peer: '198.51.100.7:56830', detail: 'boom' }]);
  });

  it('an unrecognised critical option gets 4.02 in a CON and silence in a NON; an unknown elective one is ignored (§5.4.1)', async () => {
    const endpoint = h.open();
    let calls = 0;
    endpoint.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT });
    });
    const critical = { number: 9, value: Buffer.from([1]) };
    const elective = { number: 10, value: Buffer.from([1]) };
    h.pair.sendCoap(get(0x5001, { options: [critical] }));
    h.pair.sendCoap(get(0x5002, { type: MessageType.NON, options: [critical] }));
    h.pair.sendCoap(get(0x5003, { options: [elective] }));
    expect((await h.pair.received()).map((d) => [d.msg.type, d.msg.messageId, d.msg.code])).toEqual([
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
    const endpoint = h.open();
    const { requests } = holdingHandler(endpoint);
    h.pair.deviceSend(datagram);
    const replies = await h.pair.received();
    if (reply === 'rst') {
      expect(replies.map((d) => d.data)).toEqual([Buffer.from([0x70, 0x00, ...mid])]);
      expect(endpoint.stats.resetsOut).toBe(1);
    } else {
      expect(replies).toEqual([]);
    }
    expect(requests).toEqual([]);
    expect(endpoint.stats[counter]).toBe(1);
    expect(h.drops.map((d) => d.reason)).toEqual([reason]);
  });

  it('an Empty CON ("CoAP ping") is answered with RST and is not malformed (§4.3)', async () => {
    const endpoint = h.open();
    h.pair.sendCoap({ type: MessageType.CON, code: Code.EMPTY, messageId: 0x9001 });
    const replies = await h.pair.received();
    expect(replies.map((d) => d.msg)).toMatchObject([{ type: MessageType.RST, code: Code.EMPTY, messageId: 0x9001 }]);
    expect(endpoint.stats.malformed).toBe(0);
    expect(h.drops).toEqual([]);
  });
});
