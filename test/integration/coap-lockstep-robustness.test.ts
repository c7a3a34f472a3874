/**
 * Lockstep robustness of the CoapEndpoint: notifications (RFC 7641 §3.2, §3.6), CoAP ping (RFC 7252
 * §4.3), message format errors (§3, §4.2), unknown critical options (§5.4.1), and random garbage.
 */
import type { CoapEndpoint } from '../../src/coap/endpoint';
import { encode } from '../../src/coap/codec';
import { Code, Method, MessageType, Opt, type CoapMessage } from '../../src/coap/message';
import { pathOptions, uintOption, uriPath } from '../../src/coap/options';
import type { Peer } from '../../src/transport/types';
import { FAST, ScriptedPeer, endpointAddress, openEndpoint } from '../support/scripted-peer';

const OBS_TOKEN = Buffer.from('0b5e0b5e', 'hex');

describe('CoapEndpoint robustness, lockstep', () => {
  let ep: CoapEndpoint;
  let peer: ScriptedPeer;
  let to: Peer;
  let notifications: CoapMessage[];

  beforeEach(async () => {
    ep = await openEndpoint({ params: FAST });
    peer = await ScriptedPeer.open();
    to = endpointAddress(ep);
    notifications = [];
    ep.setNotificationListener((_p, msg) => {
      if (!msg.token.equals(OBS_TOKEN)) return false;
      notifications.push(msg);
      return true;
    });
  });

  afterEach(async () => {
    await peer.close();
    await ep.close();
  });

  const notification = (type: MessageType, messageId: number, token: Buffer, seq: number) =>
    ({
      type,
      code: Code.CONTENT,
      messageId,
      token,
      options: [uintOption(Opt.OBSERVE, seq)],
      payload: Buffer.from(`n${seq}`),
    }) as const;

  it('a CON notification with an unknown token → RST (RFC 7641 §3.6, RFC 7252 §4.2)', async () => {
    peer.send(notification(MessageType.CON, 0x1001, Buffer.from('dead', 'hex'), 5), to);
    const { msg, raw } = await peer.next();
    expect(msg).toMatchObject({ type: MessageType.RST, code: Code.EMPTY, messageId: 0x1001 });
    expect(raw.length).toBe(4);
    expect(ep.stats.unknownNotifications).toBe(1);
    expect(notifications).toHaveLength(0);
  });

  it('a NON notification with an unknown token → RST (RFC 7641 §3.6 allows rejecting NON)', async () => {
    peer.send(notification(MessageType.NON, 0x1002, Buffer.from('dead', 'hex'), 5), to);
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x1002 });
  });

  it('a known CON notification → empty ACK; a duplicate is ACKed again, the handler runs once (RFC 7641 §4.4, RFC 7252 §4.5)', async () => {
    const n = notification(MessageType.CON, 0x1003, OBS_TOKEN, 7);
    peer.send(n, to);
    const ack = await peer.next();
    expect(ack.msg).toMatchObject({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x1003 });
    expect(ack.raw.length).toBe(4);
    peer.send(n, to);
    expect((await peer.next()).raw).toEqual(ack.raw);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.payload.toString()).toBe('n7');
    expect(ep.stats.duplicates).toBe(1);
  });

  it('a known NON notification is delivered without any reply', async () => {
    peer.send(notification(MessageType.NON, 0x1004, OBS_TOKEN, 8), to);
    expect(await peer.barrier(to, 0x9200)).toEqual([]);
    expect(notifications).toHaveLength(1);
  });

  it('a notification with an unknown critical option → RST, not delivered (RFC 7252 §5.4.1)', async () => {
    const n = notification(MessageType.CON, 0x1005, OBS_TOKEN, 9);
    peer.send({ ...n, options: [...n.options, { number: 2049, value: Buffer.from('x') }] }, to);
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x1005 });
    expect(notifications).toHaveLength(0);
    expect(ep.stats.badOption).toBe(1);
  });

  it('a notification handler that throws does not take the endpoint down; treated like a rejection (RST)', async () => {
    ep.setNotificationListener(() => {
      throw new Error('application bug');
    });
    peer.send(notification(MessageType.CON, 0x1006, OBS_TOKEN, 10), to);
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, code: Code.EMPTY, messageId: 0x1006 });
    expect(ep.stats.handlerErrors).toBe(1);
    expect(await peer.barrier(to, 0x9201)).toEqual([]);
  });

  it('an asynchronous notification handler: ACK once it resolves true, RST when it resolves false or rejects', async () => {
    const decisions: ((known: boolean) => void)[] = [];
    ep.setNotificationListener(() => new Promise<boolean>((resolve) => decisions.push(resolve)));
    peer.send(notification(MessageType.CON, 0x1007, OBS_TOKEN, 11), to);
    peer.send(notification(MessageType.CON, 0x1008, OBS_TOKEN, 12), to);
    // Nothing is sent while the handler decides.
    expect(await peer.barrier(to, 0x9203)).toEqual([]);
    expect(decisions).toHaveLength(2);
    decisions[1]?.(false);
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x1008 });
    decisions[0]?.(true);
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x1007 });
    ep.setNotificationListener(() => Promise.reject(new Error('store down')));
    peer.send(notification(MessageType.CON, 0x1009, OBS_TOKEN, 13), to);
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x1009 });
    expect(ep.stats.handlerErrors).toBe(1);
  });

  it('CoAP ping (Empty CON) → RST with its MID (§4.3); Empty NON is ignored', async () => {
    peer.send({ type: MessageType.NON, code: Code.EMPTY, messageId: 0x2001 }, to);
    peer.send({ type: MessageType.CON, code: Code.EMPTY, messageId: 0x2002 }, to);
    const { msg, raw } = await peer.next();
    expect(msg).toMatchObject({ type: MessageType.RST, code: Code.EMPTY, messageId: 0x2002 });
    expect(raw).toEqual(Buffer.from('70002002', 'hex'));
  });

  it('a malformed CON (TKL 9) → RST with its MID; a malformed NON is silently dropped (§3, §4.2, §4.3)', async () => {
    peer.sendRaw(Buffer.from('5901300100112233445566778899', 'hex'), to); // NON, TKL 9
    peer.sendRaw(Buffer.from('4901300200112233445566778899', 'hex'), to); // CON, TKL 9
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x3002 });
    peer.sendRaw(Buffer.from('4201300300', 'hex'), to); // CON, token truncated
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x3003 });
    peer.sendRaw(Buffer.from('40013004ff', 'hex'), to); // CON, payload marker without payload
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.RST, messageId: 0x3004 });
    expect(ep.stats.malformed).toBe(4);
  });

  it('an unknown version is silently ignored (§3)', async () => {
    peer.sendRaw(Buffer.from('81013005', 'hex'), to);
    expect(await peer.barrier(to, 0x9202)).toEqual([]);
    expect(ep.stats.ignored).toBe(1);
  });

  it('an unknown critical option (2049) in a CON request → 4.02 Bad Option; handler not called (§5.4.1)', async () => {
    let calls = 0;
    ep.setRequestHandler((_req, respond) => {
      calls++;
      respond({ code: Code.CONTENT });
    });
    const options = [...pathOptions(['3']), { number: 2049, value: Buffer.from('?') }];
    peer.send({ type: MessageType.CON, code: Method.GET, messageId: 0x4001, token: OBS_TOKEN, options }, to);
    const { msg } = await peer.next();
    expect(msg).toMatchObject({ type: MessageType.ACK, code: Code.BAD_OPTION, messageId: 0x4001 });
    expect(msg.token).toEqual(OBS_TOKEN);
    // In a NON request it is rejected silently; an unknown elective (even) option is ignored.
    peer.send({ type: MessageType.NON, code: Method.GET, messageId: 0x4002, token: OBS_TOKEN, options }, to);
    peer.send(
      {
        type: MessageType.CON,
        code: Method.GET,
        messageId: 0x4003,
        token: OBS_TOKEN,
        options: [{ number: 2048, value: Buffer.from('e') }],
      },
      to,
    );
    expect((await peer.next()).msg).toMatchObject({ type: MessageType.ACK, code: Code.CONTENT, messageId: 0x4003 });
    expect(calls).toBe(1);
    expect(ep.stats.badOption).toBe(2);
  });

  it('thousands of random and truncated datagrams never break the endpoint', async () => {
    let handled = 0;
    ep.setRequestHandler((req, respond) => {
      handled++;
      respond({ code: uriPath(req.message)[0] === 'ok' ? Code.CONTENT : Code.NOT_FOUND, payload: Buffer.from('fine') });
    });
    const rnd = prng(7252);
    const int = (n: number): number => Math.floor(rnd() * n);
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
    const sample = (): Buffer => {
      const valid = encode({
        type: int(4) as MessageType,
        code: [0, Method.GET, Method.POST, Code.CONTENT, Code.NOT_FOUND][int(5)] as number,
        messageId: int(0x10000),
        token: bytes(int(9)),
        options: [
          { number: 1 + int(60), value: bytes(int(20)) },
          { number: 100 + int(3000), value: bytes(int(300)) },
        ],
        payload: bytes(int(40)),
      });
      switch (int(4)) {
        case 0:
          return bytes(int(48)); // pure noise
        case 1:
          return valid.subarray(0, int(valid.length)); // truncated
        case 2: {
          const flipped = Buffer.from(valid); // bit flips, keeping version 1 most of the time
          for (let i = 0; i < 3; i++) flipped[int(flipped.length)] ^= 1 << int(8);
          return flipped;
        }
        default:
          return Buffer.concat([Buffer.from([0x40 | int(64), int(256), int(256), int(256)]), bytes(int(32))]);
      }
    };
    const BATCHES = 20;
    const PER_BATCH = 200;
    for (let b = 0; b < BATCHES; b++) {
      for (let i = 0; i < PER_BATCH; i++) peer.sendRaw(sample(), to);
      // Flow control: a ping after each batch; its RST means the endpoint has worked through the batch.
      // Every reply is decoded by the peer on the way, so all that the endpoint emits must be valid CoAP.
      const ping = 0xff00 + b;
      peer.send({ type: MessageType.CON, code: Code.EMPTY, messageId: ping }, to);
      await peer.waitFor((r) => r.msg.type === MessageType.RST && r.msg.messageId === ping, 5000);
    }
    expect(ep.stats.datagramsIn).toBeGreaterThan(BATCHES * PER_BATCH * 0.9);
    expect(ep.stats.malformed).toBeGreaterThan(500);
    expect(ep.stats.handlerErrors).toBe(0);
    expect(handled).toBeGreaterThan(0);

    // A normal request from a fresh peer is still served.
    const fresh = await ScriptedPeer.open();
    try {
      fresh.send(
        { type: MessageType.CON, code: Method.GET, messageId: 0x5001, token: OBS_TOKEN, options: pathOptions(['ok']) },
        to,
      );
      const { msg } = await fresh.next();
      expect(msg).toMatchObject({ type: MessageType.ACK, code: Code.CONTENT, messageId: 0x5001 });
      expect(msg.payload.toString()).toBe('fine');
    } finally {
      await fresh.close();
    }
  }, 30_000);
});

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
