/**
 * Lockstep tests of DTLS flights (RFC 6347 §4.2.4): the engine without sockets, driven by a
 * scripted client whose every datagram the test drops, repeats, reorders or fragments.
 */
import { ScriptedPskClient } from '../../test/support/dtls-psk-client';
import type { Peer } from '../transport/types';
import { DtlsServer, type DtlsEvent } from './dtls-server';
import { parseRecords } from './record';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const PEER: Peer = { address: '192.0.2.7', port: 40001 };

interface Harness {
  readonly server: DtlsServer;
  /** Datagrams the server sent, not yet read by the test. */
  readonly out: Buffer[];
  readonly events: DtlsEvent[];
  readonly delivered: string[];
}

function harness(retransmitMs = 60_000): Harness {
  const out: Buffer[] = [];
  const events: DtlsEvent[] = [];
  const delivered: string[] = [];
  const server = new DtlsServer({
    credentials: { psk: async (id) => (id === 'dev' ? { key: KEY, endpoint: 'ep-dev' } : undefined) },
    send: (d) => void out.push(d),
    deliver: (data) => void delivered.push(data.toString()),
    onEvent: (e) => void events.push(e),
    retransmitMs,
  });
  return { server, out, events, delivered };
}

/** Lets the engine's queued (asynchronous) handshake steps run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** ClientHello, HelloVerifyRequest, ClientHello with cookie; returns after flight 4 was read. */
async function toFlight4(h: Harness, client: ScriptedPskClient): Promise<Buffer[]> {
  h.server.receive(client.clientHello(), PEER);
  client.onDatagram(h.out.shift() as Buffer);
  h.server.receive(client.clientHello(), PEER);
  await settle(); // the handshake starts once a session to resume was looked up
  const flight4 = h.out.splice(0);
  return flight4;
}

/** The whole handshake, nothing lost: flight 4, flight 5, flight 6 read by the client. */
async function establish(h: Harness, client: ScriptedPskClient): Promise<void> {
  for (const d of await toFlight4(h, client)) client.onDatagram(d);
  for (const d of client.flight5()) h.server.receive(d, PEER);
  await settle();
  for (const d of h.out.splice(0)) client.onDatagram(d);
}

afterEach(() => jest.useRealTimers());

describe('DTLS handshake flights in lockstep', () => {
  it('completes the plain exchange, and application data flows both ways', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    for (const d of await toFlight4(h, client)) client.onDatagram(d);
    for (const d of client.flight5()) h.server.receive(d, PEER);
    await settle();
    const flight6 = h.out.splice(0);
    for (const d of flight6) client.onDatagram(d);
    expect(client.established).toBe(true);
    h.server.receive(client.seal(Buffer.from('ping')), PEER);
    expect(h.delivered).toEqual(['ping']);
    expect(h.server.send(Buffer.from('pong'), PEER)).toBe(true);
    expect(h.server.send(Buffer.from('pong'), PEER)).toBe(true);
    const data = h.out.splice(0);
    client.onDatagram(data[0] as Buffer);
    expect(client.received.map(String)).toEqual(['pong']);
    // Every epoch-1 record the server sent has its own sequence number (an AEAD nonce is never reused).
    const epoch1 = [...flight6, ...data]
      .flatMap((d) => parseRecords(d, 0).records)
      .filter((r) => r.epoch === 1)
      .map((r) => r.sequence);
    expect(epoch1).toEqual([0, 1, 2]);
  });

  it('retransmits flight 4 when it is lost (timer, doubling), in fresh records', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const h = harness(1000);
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    const lost = await toFlight4(h, client);
    expect(lost.length).toBeGreaterThan(0);
    jest.advanceTimersByTime(999);
    expect(h.out).toHaveLength(0);
    jest.advanceTimersByTime(1);
    const again = h.out.splice(0);
    expect(again.length).toBe(lost.length);
    expect(again[0]?.equals(lost[0] as Buffer)).toBe(false); // new record sequence numbers (§4.2.4)
    jest.advanceTimersByTime(1999);
    expect(h.out).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(h.out.splice(0).length).toBe(lost.length);
    jest.useRealTimers();
    for (const d of again) client.onDatagram(d);
    for (const d of client.flight5()) h.server.receive(d, PEER);
    await settle();
    for (const d of h.out.splice(0)) client.onDatagram(d);
    expect(client.established).toBe(true);
  });

  it('answers a repeated ClientHello (flight 3) with flight 4 again, without a second handshake', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    const first = await toFlight4(h, client);
    h.server.receive(client.clientHello(), PEER);
    await settle();
    expect(h.out.splice(0).length).toBe(first.length);
    expect(h.server.handshakeCount).toBe(1);
    for (const d of first) client.onDatagram(d);
    for (const d of client.flight5()) h.server.receive(d, PEER);
    await settle();
    for (const d of h.out.splice(0)) client.onDatagram(d);
    expect(client.established).toBe(true);
    expect(h.server.connectionCount).toBe(1);
  });

  it('takes flight 5 reordered (Finished, then ChangeCipherSpec, then a fragmented ClientKeyExchange in reverse) and duplicated', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    for (const d of await toFlight4(h, client)) client.onDatagram(d);
    const records = client.flight5(2);
    const finished = records.pop() as Buffer;
    const ccs = records.pop() as Buffer;
    for (const d of [finished, ccs, finished, ...records.reverse(), ...records]) h.server.receive(d, PEER);
    await settle();
    for (const d of h.out.splice(0)) client.onDatagram(d);
    expect(client.established).toBe(true);
    expect(h.events.filter((e) => e.type === 'handshake-done')).toHaveLength(1);
  });

  it('sends flight 6 again when the client repeats flight 5 because ours was lost', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    for (const d of await toFlight4(h, client)) client.onDatagram(d);
    const flight5 = client.flight5();
    for (const d of flight5) h.server.receive(d, PEER);
    await settle();
    const lost = h.out.splice(0);
    expect(lost.length).toBeGreaterThan(0);
    expect(client.established).toBe(false);
    for (const d of flight5) h.server.receive(d, PEER);
    await settle();
    for (const d of h.out.splice(0)) client.onDatagram(d);
    expect(client.established).toBe(true);
  });

  it('gives up on a handshake whose client went quiet, after the retransmissions', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const h = harness(1000);
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    await toFlight4(h, client);
    jest.advanceTimersByTime(1000 + 2000 + 4000 + 8000 + 16000 + 32000 + 60_000);
    expect(h.server.handshakeCount).toBe(0);
    expect(h.events.some((e) => e.type === 'handshake-failed' && e.reason === 'no answer to our flight')).toBe(true);
  });

  it('refuses a replayed application record, and one whose bytes were altered', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    await establish(h, client);
    const rec = client.seal(Buffer.from('once'));
    h.server.receive(rec, PEER);
    h.server.receive(rec, PEER);
    const altered = Buffer.from(client.seal(Buffer.from('twice')));
    altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 0x80;
    h.server.receive(altered, PEER);
    expect(h.delivered).toEqual(['once']);
    expect(h.events.filter((e) => e.type === 'dropped' && e.kind === 'unauthentic')).toHaveLength(2);
  });

  it('with a connection ID, follows the client to a new address without a new handshake (RFC 9146 §6)', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY, cidLength: 0 });
    await establish(h, client);
    expect(client.serverCid).toHaveLength(6);
    expect(client.established).toBe(true);
    const moved: Peer = { address: '198.51.100.9', port: 50123 };
    h.server.receive(client.seal(Buffer.from('after NAT rebinding')), moved);
    expect(h.delivered).toEqual(['after NAT rebinding']);
    expect(h.server.connection(moved)).toBeDefined();
    expect(h.server.connection(PEER)).toBeUndefined();
    // A forged record with the CID from yet another address does not move it.
    const forged = Buffer.from(client.seal(Buffer.from('x')));
    forged[forged.length - 2] = (forged[forged.length - 2] as number) ^ 1;
    h.server.receive(forged, { address: '203.0.113.5', port: 1 });
    expect(h.server.connection(moved)).toBeDefined();
  });

  it('forgets a connection idle for longer than idleMs, and the oldest one beyond maxConnections', async () => {
    const out: Buffer[] = [];
    const server = new DtlsServer({
      credentials: { psk: async () => ({ key: KEY, endpoint: 'ep' }) },
      send: (d) => void out.push(d),
      deliver: () => undefined,
      idleMs: 60_000,
      maxConnections: 2,
    });
    const peers = [40001, 40002, 40003].map((port) => ({ address: '192.0.2.7', port }));
    for (const peer of peers) {
      const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
      server.receive(client.clientHello(), peer);
      client.onDatagram(out.shift() as Buffer);
      server.receive(client.clientHello(), peer);
      await settle();
      for (const d of out.splice(0)) client.onDatagram(d);
      for (const d of client.flight5()) server.receive(d, peer);
      await settle();
      out.splice(0);
    }
    expect(server.connectionCount).toBe(2);
    expect(server.connection(peers[0] as Peer)).toBeUndefined(); // the oldest went first
    server.forgetIdle(Date.now() + 59_000);
    expect(server.connectionCount).toBe(2);
    server.forgetIdle(Date.now() + 61_000);
    expect(server.connectionCount).toBe(0);
    server.close();
  });

  it('agrees to max_fragment_length and keeps every record within it (RFC 6066 §4)', async () => {
    const h = harness();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY, maxFragmentLength: 1 });
    await establish(h, client);
    expect(client.agreedMaxFragment).toBe(512);
    expect(client.established).toBe(true);
    expect(h.server.send(Buffer.alloc(512, 1), PEER)).toBe(true);
    expect(h.server.send(Buffer.alloc(513, 1), PEER)).toBe(false);
    const records = h.out.splice(0).flatMap((d) => parseRecords(d, 0).records);
    expect(records).toHaveLength(1);
  });

  it('a wrong key ends the handshake with bad_record_mac; an unknown identity with unknown_psk_identity', async () => {
    for (const [identity, key, alert] of [
      ['dev', Buffer.alloc(16, 1), 20],
      ['stranger', KEY, 115],
    ] as const) {
      const h = harness();
      const client = new ScriptedPskClient({ identity, key });
      for (const d of await toFlight4(h, client)) client.onDatagram(d);
      for (const d of client.flight5()) h.server.receive(d, PEER);
      await settle();
      for (const d of h.out.splice(0)) client.onDatagram(d);
      expect(client.alerts).toEqual([alert]);
      expect(h.server.connectionCount).toBe(0);
      expect(h.server.handshakeCount).toBe(0);
    }
  });
});
