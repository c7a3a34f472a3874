/**
 * CoAP over IPv6 (RFC 7252 §6 "coap" URIs with IPv6 literals; transport-wise nothing changes) and
 * over a dual-stack socket bound to "::", where IPv4 peers appear as ::ffff:a.b.c.d.
 *
 * This machine has ::1 on lo (checked with /proc/net/if_inet6 when the test was written). Where IPv6
 * is not available, binding fails with EADDRNOTAVAIL (no ::1 address) or EAFNOSUPPORT (no IPv6 stack):
 * the tests then assert that specific error instead of passing vacuously or failing on an unrelated one.
 */
import type { CoapEndpoint } from '../../src/coap/endpoint';
import { Code, Method, MessageType } from '../../src/coap/message';
import { pathOptions, uriPath } from '../../src/coap/options';
import { UdpTransport } from '../../src/transport/udp';
import { FAST, ScriptedPeer, endpointAddress, openEndpoint } from '../support/scripted-peer';

const IPV6_UNAVAILABLE = ['EADDRNOTAVAIL', 'EAFNOSUPPORT'];
const TOKEN = Buffer.from('6666', 'hex');

/** undefined when IPv6 loopback works; otherwise the bind error's code (or message). */
let ipv6Error: string | undefined;

beforeAll(async () => {
  try {
    const probe = await UdpTransport.bind({ host: '::1', port: 0 });
    await probe.close();
  } catch (err) {
    ipv6Error = err instanceof Error && 'code' in err ? String(err.code) : String(err);
  }
});

/** True when the test must stop because IPv6 is unavailable, after asserting why. */
function unavailable(): boolean {
  if (ipv6Error === undefined) return false;
  expect(IPV6_UNAVAILABLE).toContain(ipv6Error);
  return true;
}

describe('CoAP over IPv6 loopback', () => {
  let ep: CoapEndpoint | undefined;
  let peer: ScriptedPeer | undefined;

  afterEach(async () => {
    await peer?.close();
    await ep?.close();
    peer = undefined;
    ep = undefined;
  });

  it('request/response in both roles over [::1]', async () => {
    if (unavailable()) return;
    const e = (ep = await openEndpoint({ params: FAST, host: '::1' }));
    const p = (peer = await ScriptedPeer.open('::1'));
    expect(e.local().address).toBe('::1');
    const to = endpointAddress(e, '::1');

    // Server role.
    e.setRequestHandler((req, respond) =>
      respond({ code: Code.CONTENT, payload: Buffer.from(`hello ${req.peer.address}`) }),
    );
    p.send(
      { type: MessageType.CON, code: Method.GET, messageId: 0x6001, token: TOKEN, options: pathOptions(['v6']) },
      to,
    );
    const { msg, from } = await p.next();
    expect(msg).toMatchObject({ type: MessageType.ACK, code: Code.CONTENT, messageId: 0x6001 });
    expect(msg.payload.toString()).toBe('hello ::1');
    expect(from.address).toBe('::1');

    // Client role.
    const pending = e.request(p.address, { code: Method.GET, options: pathOptions(['dev']) });
    const req = await p.next();
    expect(uriPath(req.msg)).toEqual(['dev']);
    p.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: req.msg.messageId,
        token: req.msg.token,
        payload: Buffer.from('v6'),
      },
      to,
    );
    expect((await pending).payload.toString()).toBe('v6');
  });

  it('a dual-stack endpoint on "::" serves an IPv4 peer and can send requests to a plain IPv4 address', async () => {
    if (unavailable()) return;
    const e = (ep = await openEndpoint({ params: FAST, host: '::' }));
    const p = (peer = await ScriptedPeer.open('127.0.0.1'));
    const to = endpointAddress(e, '127.0.0.1');
    const seen: string[] = [];
    e.setRequestHandler((req, respond) => {
      seen.push(req.peer.address);
      respond({ code: Code.CONTENT });
    });
    p.send({ type: MessageType.CON, code: Method.GET, messageId: 0x6002, token: TOKEN }, to);
    expect((await p.next()).msg).toMatchObject({ type: MessageType.ACK, code: Code.CONTENT, messageId: 0x6002 });
    expect(seen).toEqual(['::ffff:127.0.0.1']);

    // A downlink to an address configured as plain IPv4 (not the mapped form seen on the socket).
    const pending = e.request(
      { address: '127.0.0.1', port: p.address.port },
      { code: Method.GET, options: [], timeoutMs: 5000 },
    );
    const req = await p.next();
    p.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: req.msg.messageId,
        token: req.msg.token,
        payload: Buffer.from('v4'),
      },
      to,
    );
    expect((await pending).payload.toString()).toBe('v4');

    // ...and the same with the mapped form, the separate-response path included.
    const pending2 = e.request(
      { address: '::ffff:127.0.0.1', port: p.address.port },
      { code: Method.GET, options: [], timeoutMs: 5000 },
    );
    const req2 = await p.next();
    p.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: req2.msg.messageId }, to);
    p.send(
      {
        type: MessageType.CON,
        code: Code.CONTENT,
        messageId: 0x6003,
        token: req2.msg.token,
        payload: Buffer.from('sep'),
      },
      to,
    );
    expect((await p.next()).msg).toMatchObject({ type: MessageType.ACK, messageId: 0x6003 });
    expect((await pending2).payload.toString()).toBe('sep');
  });
});
