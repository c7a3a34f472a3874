/**
 * Lockstep exchanges with a CoapEndpoint in the client role (endpoint.request): piggybacked and
 * separate responses (RFC 7252 §5.2), retransmission with exponential back-off (§4.2, §4.8),
 * RST (§4.2) and token matching (§5.3.2), against a scripted raw UDP peer.
 */
import { CoapCancelledError, CoapResetError, CoapTimeoutError } from '../../src/common/errors';
import type { CoapEndpoint } from '../../src/coap/endpoint';
import { Code, Method, MessageType, type CoapMessage } from '../../src/coap/message';
import { pathOptions, uriPath } from '../../src/coap/options';
import type { TransmissionParams } from '../../src/coap/params';
import type { Peer } from '../../src/transport/types';
import { FAST, ScriptedPeer, openEndpoint, type Received } from '../support/scripted-peer';

/**
 * With ACK_TIMEOUT = 50 ms, a retransmission of our request may race with the peer's answer on a
 * loaded machine; these predicates skip such copies (RFC 7252 §4.2: same MID, same bytes).
 */
const notRetransmissionOf =
  (req: CoapMessage) =>
  (r: Received): boolean =>
    !(r.msg.type === MessageType.CON && r.msg.messageId === req.messageId);
const others = (rs: Received[], req: CoapMessage): Received[] => rs.filter(notRetransmissionOf(req));

describe('CoapEndpoint client role, lockstep (RFC 7252 §4.2, §5.2, §5.3.2)', () => {
  let ep: CoapEndpoint;
  let peer: ScriptedPeer;
  let device: Peer;
  const endpointPort = (): Peer => ({ address: '127.0.0.1', port: ep.local().port });

  beforeEach(async () => {
    ep = await openEndpoint({ params: FAST });
    peer = await ScriptedPeer.open();
    device = peer.address;
  });

  afterEach(async () => {
    await peer.close();
    await ep.close();
  });

  it('CON request → piggybacked ACK → resolves (§5.2.1)', async () => {
    const pending = ep.request(device, { code: Method.GET, options: pathOptions(['3', '0', '1']) });
    const { msg: req } = await peer.next();
    expect(req.type).toBe(MessageType.CON);
    expect(req.code).toBe(Method.GET);
    expect(uriPath(req)).toEqual(['3', '0', '1']);
    expect(req.token.length).toBe(8); // §5.3.1: a random, unguessable token
    peer.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: req.messageId,
        token: req.token,
        payload: Buffer.from('lwm2m'),
      },
      endpointPort(),
    );
    const res = await pending;
    expect(res.code).toBe(Code.CONTENT);
    expect(res.payload.toString()).toBe('lwm2m');
  });

  it('successive requests to a peer use distinct MIDs and tokens (NSTART = 2: both outstanding at once)', async () => {
    await ep.close();
    ep = await openEndpoint({ params: { ...FAST, nstart: 2 } });
    const a = ep.request(device, { code: Method.GET, options: [] });
    const b = ep.request(device, { code: Method.GET, options: [] });
    const r1 = (await peer.next()).msg;
    const r2 = (await peer.next()).msg;
    expect(r2.messageId).toBe((r1.messageId + 1) & 0xffff);
    expect(r2.token.equals(r1.token)).toBe(false);
    // Answer in the opposite order: each is matched by its own MID and token.
    peer.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: r2.messageId,
        token: r2.token,
        payload: Buffer.from('2'),
      },
      endpointPort(),
    );
    peer.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: r1.messageId,
        token: r1.token,
        payload: Buffer.from('1'),
      },
      endpointPort(),
    );
    expect((await a).payload.toString()).toBe('1');
    expect((await b).payload.toString()).toBe('2');
  });

  it('empty ACK then separate CON response → we ACK it with its MID and resolve (§5.2.2)', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [], token: Buffer.from('cafe', 'hex') });
    const { msg: req } = await peer.next();
    expect(req.token).toEqual(Buffer.from('cafe', 'hex'));
    peer.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: req.messageId }, endpointPort());
    // The empty ACK stops retransmission: nothing but (racing) copies of the request before the ping's RST.
    expect(others(await peer.barrier(endpointPort(), 0x9100), req)).toEqual([]);
    peer.send(
      { type: MessageType.CON, code: Code.CONTENT, messageId: 0x0bad, token: req.token, payload: Buffer.from('sep') },
      endpointPort(),
    );
    const ack = await peer.next();
    expect(ack.msg).toMatchObject({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x0bad });
    expect(ack.raw.length).toBe(4);
    expect((await pending).payload.toString()).toBe('sep');
    // Our empty ACK is cached: a retransmitted separate response is ACKed again (§4.5).
    peer.send(
      { type: MessageType.CON, code: Code.CONTENT, messageId: 0x0bad, token: req.token, payload: Buffer.from('sep') },
      endpointPort(),
    );
    expect((await peer.next()).raw).toEqual(ack.raw);
  });

  it('a separate response that overtakes the lost empty ACK completes the exchange (§5.2.2)', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [] });
    const { msg: req } = await peer.next();
    peer.send(
      { type: MessageType.NON, code: Code.CONTENT, messageId: 0x0c0c, token: req.token, payload: Buffer.from('non') },
      endpointPort(),
    );
    expect((await pending).payload.toString()).toBe('non');
    // NON response: nothing to ACK; and our request is no longer retransmitted.
    expect(others(await peer.barrier(endpointPort(), 0x9101), req)).toEqual([]);
    await peer.expectSilence(FAST.ackTimeoutMs * 4);
  });

  it('no answer → MAX_RETRANSMIT + 1 transmissions, same MID, doubling intervals, then CoapTimeoutError (§4.2, §4.8.2)', async () => {
    const params: TransmissionParams = { ackTimeoutMs: 40, ackRandomFactor: 1.5, maxRetransmit: 4 };
    const quick = await openEndpoint({ params });
    try {
      const started = performance.now();
      const outcome = quick.request(device, { code: Method.GET, options: [], timeoutMs: 30_000 }).then(
        () => new Error('resolved'),
        (err: unknown) => err,
      );
      const sends: Received[] = [];
      for (let i = 0; i <= params.maxRetransmit; i++) sends.push(await peer.next());
      const err = await outcome;
      const failedAt = performance.now();
      expect(err).toBeInstanceOf(CoapTimeoutError);
      expect(new Set(sends.map((s) => s.msg.messageId)).size).toBe(1);
      expect(sends.every((s) => s.raw.equals((sends[0] as Received).raw))).toBe(true);
      const gaps = sends.slice(1).map((s, i) => s.at - (sends[i] as Received).at);
      // First timeout in [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR], then doubling.
      // (Small tolerances: arrival times are taken on the test's event loop, not at the endpoint's send.)
      expect(gaps[0]).toBeGreaterThanOrEqual(params.ackTimeoutMs - 5);
      for (let i = 1; i < gaps.length; i++) {
        expect(gaps[i]).toBeGreaterThan(gaps[i - 1] as number);
        expect(gaps[i]).toBeGreaterThanOrEqual(params.ackTimeoutMs * 2 ** i - 5);
      }
      // After the last retransmission we still wait a doubled timeout before giving up.
      const last = sends[sends.length - 1] as Received;
      expect(failedAt - last.at).toBeGreaterThanOrEqual(params.ackTimeoutMs * 2 ** params.maxRetransmit - 10);
      // The whole wait is about MAX_TRANSMIT_WAIT, bounded by ACK_TIMEOUT × (2^5 − 1) × ACK_RANDOM_FACTOR.
      expect(failedAt - started).toBeLessThan(params.ackTimeoutMs * 31 * params.ackRandomFactor + 500);
      expect(quick.stats.retransmissions).toBe(params.maxRetransmit);
      expect(quick.stats.timeouts).toBe(1);
      await peer.expectSilence(params.ackTimeoutMs * 4);
    } finally {
      await quick.close();
    }
  });

  it('the exchange deadline (timeoutMs) also ends a request that was ACKed but never answered', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [], timeoutMs: 300 });
    const { msg: req } = await peer.next();
    peer.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: req.messageId }, endpointPort());
    await expect(pending).rejects.toBeInstanceOf(CoapTimeoutError);
  });

  it('RST from the peer → CoapResetError (§4.2)', async () => {
    const pending = ep.request(device, { code: Method.PUT, options: [], payload: Buffer.from('x') });
    const { msg: req } = await peer.next();
    peer.send({ type: MessageType.RST, code: Code.EMPTY, messageId: req.messageId }, endpointPort());
    await expect(pending).rejects.toBeInstanceOf(CoapResetError);
    expect(ep.stats.resetsIn).toBe(1);
    expect(others(await peer.barrier(endpointPort(), 0x9102), req)).toEqual([]);
    await peer.expectSilence(FAST.ackTimeoutMs * 4);
  });

  it('a piggybacked response with the right MID but a wrong token is not matched (§5.3.2)', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [], timeoutMs: 10_000 });
    const first = await peer.next();
    const req = first.msg;
    const wrong = Buffer.from(req.token);
    wrong[0] = (wrong[0] as number) ^ 0xff;
    peer.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: req.messageId,
        token: wrong,
        payload: Buffer.from('wrong'),
      },
      endpointPort(),
    );
    expect(others(await peer.barrier(endpointPort(), 0x9103), req)).toEqual([]);
    expect(ep.stats.ignored).toBe(1);
    // Still unanswered: the request is retransmitted with the same MID.
    const retry = await peer.next();
    expect(retry.msg.messageId).toBe(req.messageId);
    expect(retry.raw).toEqual(first.raw);
    peer.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: req.messageId,
        token: req.token,
        payload: Buffer.from('right'),
      },
      endpointPort(),
    );
    expect((await pending).payload.toString()).toBe('right');
  });

  it('a separate response with the right token from another peer is not matched (§5.3.2: token + endpoint)', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [], timeoutMs: 10_000 });
    const { msg: req } = await peer.next();
    peer.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: req.messageId }, endpointPort());
    const intruder = await ScriptedPeer.open();
    try {
      intruder.send(
        {
          type: MessageType.CON,
          code: Code.CONTENT,
          messageId: 0x0e0e,
          token: req.token,
          payload: Buffer.from('spoof'),
        },
        endpointPort(),
      );
      expect((await intruder.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x0e0e });
    } finally {
      await intruder.close();
    }
    peer.send(
      { type: MessageType.CON, code: Code.CONTENT, messageId: 0x0f0f, token: req.token, payload: Buffer.from('real') },
      endpointPort(),
    );
    expect((await peer.waitFor(notRetransmissionOf(req))).msg).toMatchObject({
      type: MessageType.ACK,
      messageId: 0x0f0f,
    });
    expect((await pending).payload.toString()).toBe('real');
  });

  it('NON request is sent once and matched by token (§5.2.3)', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [], confirmable: false, timeoutMs: 5000 });
    const { msg: req } = await peer.next();
    expect(req.type).toBe(MessageType.NON);
    await peer.expectSilence(FAST.ackTimeoutMs * 4);
    peer.send(
      { type: MessageType.NON, code: Code.CONTENT, messageId: 0x0d0d, token: req.token, payload: Buffer.from('n') },
      endpointPort(),
    );
    expect((await pending).payload.toString()).toBe('n');
  });

  it('close() rejects requests in flight as cancelled (retriable: the peer may never have seen them), not timed out', async () => {
    const pending = ep.request(device, { code: Method.GET, options: [] });
    await peer.next();
    await ep.close();
    await expect(pending).rejects.toBeInstanceOf(CoapCancelledError);
    await expect(pending).rejects.toMatchObject({ code: 'COAP_CANCELLED', retriable: true });
  });
});
