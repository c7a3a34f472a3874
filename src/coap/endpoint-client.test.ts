/**
 * The CoAP message layer as a client (RFC 7252 §4.2, §5.2.2, §5.3.2; RFC 7641 §3.6) without
 * sockets: our requests to the device side of the in-memory datagram pair, their retransmission on
 * jest's fake clock, separate and late responses, notifications, and close.
 */
import { CoapCancelledError, CoapResetError, CoapTimeoutError } from '../common/errors';
import { DEVICE_PEER, coapOf, type CoapDatagram } from '../../test/support/memory-datagram-pair';
import { get, holdingHandler, useEndpointHarness } from '../../test/support/coap-endpoint-harness';
import { FAST } from '../../test/support/scripted-peer';
import type { CoapEndpoint } from './endpoint';
import { Code, MessageType, Method, type CoapMessage } from './message';
import { pathOptions, uriPath } from './options';

const h = useEndpointHarness();

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
    const endpoint = h.open({ fakeClock: true });
    const { outcome } = start(endpoint, read);
    expect(h.pair.log).toHaveLength(1); // sent at once
    const first = coapOf(h.pair.log[0] as CoapDatagram);
    expect(first.peer).toEqual(DEVICE_PEER);
    expect(first.msg).toMatchObject({ type: MessageType.CON, code: Method.GET });
    expect(first.msg.token).toHaveLength(8);
    expect(uriPath(first.msg)).toEqual(['3', '0', '9']);
    let wait = FAST.ackTimeoutMs;
    for (let n = 1; n <= FAST.maxRetransmit; n++) {
      await h.advance(wait - 1);
      expect(h.pair.log).toHaveLength(n);
      await h.advance(1);
      expect(h.pair.log).toHaveLength(n + 1);
      expect(h.pair.log[n]?.data).toEqual(first.data); // same Message ID, same bytes
      wait *= 2;
    }
    await h.advance(wait - 1);
    expect(outcome()).toBeUndefined();
    await h.advance(1);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    expect((outcome() as Error).message).toContain(`after ${FAST.maxRetransmit} retransmissions`);
    await h.advance(wait * 4);
    expect(h.pair.log).toHaveLength(1 + FAST.maxRetransmit);
    expect(endpoint.stats.retransmissions).toBe(FAST.maxRetransmit);
    expect(endpoint.stats.timeouts).toBe(1);
  });

  it('the first retransmission timeout is drawn up to ACK_TIMEOUT × ACK_RANDOM_FACTOR', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const endpoint = h.open({ fakeClock: true });
    start(endpoint, read);
    // ACK_TIMEOUT × (1 + 0.999 × (ACK_RANDOM_FACTOR − 1)) = 74.975 ms: well past ACK_TIMEOUT, and within the bound.
    await h.advance(70);
    expect(h.pair.log).toHaveLength(1);
    await h.advance(5);
    expect(h.pair.log).toHaveLength(2);
  });

  it('a piggybacked response completes the exchange and stops retransmission; one with another token does not (§5.3.2)', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const endpoint = h.open({ fakeClock: true });
    const { outcome } = start(endpoint, read);
    await h.advance(FAST.ackTimeoutMs);
    expect(h.pair.log).toHaveLength(2);
    const req = coapOf(h.pair.log[0] as CoapDatagram).msg;
    h.pair.sendCoap({
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: req.messageId,
      token: Buffer.from('ffffffffffffffff', 'hex'),
      payload: Buffer.from('x'),
    });
    await h.pair.settle();
    expect(outcome()).toBeUndefined();
    expect(h.drops.map((d) => d.reason)).toEqual(['unmatched-response']);
    h.pair.sendCoap({
      type: MessageType.ACK,
      code: Code.CONTENT,
      messageId: req.messageId,
      token: req.token,
      payload: Buffer.from('87'),
    });
    await h.pair.settle();
    const res = outcome() as CoapMessage;
    expect(res.code).toBe(Code.CONTENT);
    expect(res.payload.toString()).toBe('87');
    await h.advance(FAST.ackTimeoutMs * 40);
    expect(h.pair.log).toHaveLength(2);
    expect(await h.pair.received()).toHaveLength(2); // the request and its one retransmission, nothing for the ACKs
  });

  /** A CON request with a 5 s deadline that the device has answered with an empty ACK. */
  async function acknowledged(
    separateResponseTimeoutMs?: number,
    separateTimeoutMs?: number,
  ): Promise<{ outcome: () => CoapMessage | Error | undefined; req: CoapMessage }> {
    const endpoint = h.open({
      fakeClock: true,
      ...(separateResponseTimeoutMs !== undefined ? { separateResponseTimeoutMs } : {}),
    });
    const { outcome } = start(endpoint, {
      ...read,
      timeoutMs: 5000,
      ...(separateTimeoutMs !== undefined ? { separateTimeoutMs } : {}),
    });
    const req = coapOf(h.pair.log[0] as CoapDatagram).msg;
    h.pair.sendCoap({ type: MessageType.ACK, code: Code.EMPTY, messageId: req.messageId });
    await h.pair.settle();
    return { outcome, req };
  }

  it('an empty ACK stops retransmission; the separate CON response completes the exchange and is ACKed (§5.2.2)', async () => {
    const { outcome, req } = await acknowledged();
    await h.advance(4000);
    expect(h.pair.log).toHaveLength(1);
    expect(outcome()).toBeUndefined();
    h.pair.sendCoap({
      type: MessageType.CON,
      code: Code.CONTENT,
      messageId: 0x7000,
      token: req.token,
      payload: Buffer.from('late'),
    });
    await h.pair.settle();
    expect((outcome() as CoapMessage).payload.toString()).toBe('late');
    const replies = await h.pair.received();
    expect(replies.slice(1).map((d) => d.data)).toEqual([Buffer.from([0x60, 0x00, 0x70, 0x00])]); // empty ACK, its MID
  });

  it('after an empty ACK, the exchange deadline bounds the wait for the separate response', async () => {
    const { outcome } = await acknowledged();
    await h.advance(4999);
    expect(outcome()).toBeUndefined();
    await h.advance(1);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    expect((outcome() as Error).message).toContain('within 5000 ms');
  });

  it('after an empty ACK, the separate-response bound ends the wait well before the deadline, and counts it', async () => {
    const { outcome } = await acknowledged(1500);
    await h.advance(1499);
    expect(outcome()).toBeUndefined();
    await h.advance(1);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    expect((outcome() as Error).message).toMatch(/acknowledged the request but sent no response within 1500 ms/);
    expect([h.ep?.stats.separateTimeouts, h.ep?.stats.timeouts]).toEqual([1, 0]);
  });

  it("a request's own separate-response bound replaces the endpoint's (a setup's composite probe)", async () => {
    const { outcome } = await acknowledged(1500, 400);
    await h.advance(399);
    expect(outcome()).toBeUndefined();
    await h.advance(1);
    expect((outcome() as Error).message).toMatch(/sent no response within 400 ms/);
  });

  it('a separate response within the bound completes the exchange as usual', async () => {
    const { outcome, req } = await acknowledged(1500);
    await h.advance(1400);
    h.pair.sendCoap({ type: MessageType.NON, code: Code.CONTENT, messageId: 0x7001, token: req.token });
    await h.pair.settle();
    expect((outcome() as CoapMessage).code).toBe(Code.CONTENT);
    await h.advance(1000);
    expect(h.ep?.stats.separateTimeouts).toBe(0);
  });

  it('a response that comes after the bound is ACKed and dropped, never taken for a notification (§5.2.2)', async () => {
    const { outcome, req } = await acknowledged(1500);
    const notified: CoapMessage[] = [];
    h.ep?.setNotificationListener((_peer, msg) => {
      notified.push(msg);
      return true;
    });
    await h.advance(1500);
    expect(outcome()).toBeInstanceOf(CoapTimeoutError);
    h.pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x7002, token: req.token });
    await h.pair.settle();
    const replies = await h.pair.received();
    expect(replies.slice(1).map((d) => d.data)).toEqual([Buffer.from([0x60, 0x00, 0x70, 0x02])]); // empty ACK, its MID
    expect(notified).toEqual([]);
    expect(h.ep?.stats.lateResponses).toBe(1);
    expect(h.drops.map((d) => d.reason)).toEqual(['late-response']);
    // Recognised once: the same token again is no longer ours (a notification candidate).
    h.pair.sendCoap({ type: MessageType.NON, code: Code.CONTENT, messageId: 0x7003, token: req.token });
    await h.pair.settle();
    expect(notified).toHaveLength(1);
  });

  it('an RST fails the exchange with CoapResetError and ends its retransmission (§4.2)', async () => {
    const endpoint = h.open({ fakeClock: true });
    const { outcome } = start(endpoint, read);
    const req = coapOf(h.pair.log[0] as CoapDatagram).msg;
    h.pair.sendCoap({ type: MessageType.RST, code: Code.EMPTY, messageId: req.messageId });
    await h.pair.settle();
    expect(outcome()).toBeInstanceOf(CoapResetError);
    await h.advance(FAST.ackTimeoutMs * 40);
    expect(h.pair.log).toHaveLength(1);
    expect(endpoint.stats.resetsIn).toBe(1);
  });

  it('a NON request is sent once and matched by token; an unanswered one fails at its deadline (§4.3, §5.3.2)', async () => {
    const endpoint = h.open({ fakeClock: true });
    const answered = start(endpoint, { ...read, confirmable: false, timeoutMs: 300 });
    const a = coapOf(h.pair.log[0] as CoapDatagram).msg;
    h.pair.sendCoap({
      type: MessageType.NON,
      code: Code.CONTENT,
      messageId: 0x7100,
      token: a.token,
      payload: Buffer.from('n'),
    });
    await h.pair.settle();
    expect((answered.outcome() as CoapMessage).payload.toString()).toBe('n');
    const unanswered = start(endpoint, { ...read, confirmable: false, timeoutMs: 300 });
    const b = coapOf(h.pair.log[1] as CoapDatagram).msg;
    expect([a.type, b.type]).toEqual([MessageType.NON, MessageType.NON]);
    expect(a.token.equals(b.token)).toBe(false);
    await h.advance(299);
    expect(unanswered.outcome()).toBeUndefined();
    await h.advance(1);
    expect(unanswered.outcome()).toBeInstanceOf(CoapTimeoutError);
    expect(h.pair.log).toHaveLength(2);
    expect(endpoint.stats.retransmissions).toBe(0);
  });
});

describe('NSTART (RFC 7252 §4.7): our requests outstanding to one peer', () => {
  function start(endpoint: CoapEndpoint, timeoutMs: number): { outcome: () => CoapMessage | Error | undefined } {
    let outcome: CoapMessage | Error | undefined;
    endpoint.request(DEVICE_PEER, { code: Method.GET, options: pathOptions(['3', '0', '9']), timeoutMs }).then(
      (msg) => void (outcome = msg),
      (err: Error) => void (outcome = err),
    );
    return { outcome: () => outcome };
  }
  const answer = async (msg: CoapMessage): Promise<void> => {
    h.pair.sendCoap({ type: MessageType.ACK, code: Code.CONTENT, messageId: msg.messageId, token: msg.token });
    await h.pair.settle();
  };

  it('with NSTART = 1 the second request is sent only once the first is answered', async () => {
    const endpoint = h.open({ fakeClock: true });
    const first = start(endpoint, 5000);
    const second = start(endpoint, 5000);
    await h.pair.settle();
    expect(h.pair.log).toHaveLength(1);
    await h.advance(40); // less than ACK_TIMEOUT: no retransmission yet
    expect(h.pair.log).toHaveLength(1);
    await answer(coapOf(h.pair.log[0] as CoapDatagram).msg);
    expect((first.outcome() as CoapMessage).code).toBe(Code.CONTENT);
    expect(h.pair.log).toHaveLength(2);
    const sent = coapOf(h.pair.log[1] as CoapDatagram).msg;
    expect(sent.type).toBe(MessageType.CON);
    await answer(sent);
    expect((second.outcome() as CoapMessage).code).toBe(Code.CONTENT);
  });

  it('a request waits within its own deadline: one that expires while waiting is never sent', async () => {
    const endpoint = h.open({ fakeClock: true });
    start(endpoint, 5000);
    const impatient = start(endpoint, 30);
    const third = start(endpoint, 5000);
    await h.advance(30); // less than ACK_TIMEOUT: the first is not retransmitted yet
    expect(impatient.outcome()).toBeInstanceOf(CoapTimeoutError);
    await answer(coapOf(h.pair.log[0] as CoapDatagram).msg);
    // The expired one is skipped: the third is sent next.
    expect(h.pair.log).toHaveLength(2);
    await answer(coapOf(h.pair.log[1] as CoapDatagram).msg);
    expect((third.outcome() as CoapMessage).code).toBe(Code.CONTENT);
  });

  it('a request that fails (RST) frees its turn as an answered one does', async () => {
    const endpoint = h.open({ fakeClock: true });
    const first = start(endpoint, 5000);
    start(endpoint, 5000);
    await h.pair.settle();
    const { messageId } = coapOf(h.pair.log[0] as CoapDatagram).msg;
    h.pair.sendCoap({ type: MessageType.RST, code: Code.EMPTY, messageId });
    await h.pair.settle();
    expect(first.outcome()).toBeInstanceOf(CoapResetError);
    expect(h.pair.log).toHaveLength(2);
  });

  it('NSTART = 2 (COAP_NSTART) sends two at once, the third waits', async () => {
    const endpoint = h.open({ fakeClock: true, nstart: 2 });
    for (let i = 0; i < 3; i++) start(endpoint, 5000);
    await h.pair.settle();
    expect(h.pair.log).toHaveLength(2);
  });
});

describe('responses that match no exchange: notifications (RFC 7641 §3.6)', () => {
  it('go to the notification listener: a wanted CON one is ACKed, an unwanted one gets RST, a throwing listener too', async () => {
    const endpoint = h.open();
    const wanted = Buffer.from('01', 'hex');
    const broken = Buffer.from('02', 'hex');
    const heard: string[] = [];
    endpoint.setNotificationListener(async (_peer, msg) => {
      heard.push(msg.token.toString('hex'));
      if (msg.token.equals(broken)) throw new Error('store down');
      return msg.token.equals(wanted);
    });
    h.pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x8001, token: wanted });
    h.pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x8002, token: Buffer.from('03', 'hex') });
    h.pair.sendCoap({ type: MessageType.CON, code: Code.CONTENT, messageId: 0x8003, token: broken });
    const replies = await h.pair.received();
    expect(replies.map((d) => [d.msg.type, d.msg.messageId])).toEqual([
      [MessageType.ACK, 0x8001],
      [MessageType.RST, 0x8002],
      [MessageType.RST, 0x8003],
    ]);
    expect(heard).toEqual(['01', '03', '02']);
    expect(endpoint.stats.unknownNotifications).toBe(2);
    expect(h.drops.map((d) => d.reason)).toEqual(['handler-error']);
  });
});

describe('close', () => {
  it('fails outstanding requests, closes the transport, and hears nothing after', async () => {
    const endpoint = h.open();
    const { requests } = holdingHandler(endpoint);
    const pending = endpoint.request(DEVICE_PEER, { code: Method.GET, options: [] });
    const waiting = endpoint.request(DEVICE_PEER, { code: Method.GET, options: [] }); // behind it (NSTART = 1)
    await h.pair.settle();
    await endpoint.close();
    await expect(pending).rejects.toThrow('endpoint closed');
    await expect(pending).rejects.toBeInstanceOf(CoapCancelledError);
    await expect(waiting).rejects.toBeInstanceOf(CoapCancelledError);
    expect(h.pair.log).toHaveLength(1); // the waiting one was never sent
    expect(h.pair.isClosed).toBe(true);
    h.pair.sendCoap(get(0x9999));
    await h.pair.settle();
    expect(requests).toEqual([]);
  });
});
