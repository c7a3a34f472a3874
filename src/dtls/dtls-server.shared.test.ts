/**
 * Two engines (two bridge instances) sharing DTLS connection state: the handshake happens on one,
 * the records go on on the other, with and without connection IDs; write sequence numbers never
 * repeat across the two; the replay bound of docs/dtls.md holds.
 */
import { ScriptedPskClient } from '../../test/support/dtls-psk-client';
import type { Peer } from '../transport/types';
import { CookieJar } from './cookie';
import { DtlsServer, type DtlsEvent } from './dtls-server';
import { parseRecords } from './record';
import { MemorySharedSessionStore, WRITE_BLOCK } from './shared-sessions';

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const PEER: Peer = { address: '192.0.2.7', port: 40001 };
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Instance {
  readonly server: DtlsServer;
  readonly out: Buffer[];
  readonly events: DtlsEvent[];
  readonly delivered: string[];
}

function instances(): [Instance, Instance] {
  const shared = new MemorySharedSessionStore();
  const secret = Buffer.alloc(32, 3);
  const make = (): Instance => {
    const out: Buffer[] = [];
    const events: DtlsEvent[] = [];
    const delivered: string[] = [];
    const server: DtlsServer = new DtlsServer({
      credentials: { psk: async (id) => (id === 'dev' ? { key: KEY, endpoint: 'ep-dev' } : undefined) },
      cookies: new CookieJar(secret),
      shared,
      send: (d) => void out.push(d),
      deliver: (data, peer) => {
        delivered.push(data.toString());
        server.send(Buffer.from(`re:${data.toString()}`), peer);
      },
      onEvent: (e) => void events.push(e),
    });
    return { server, out, events, delivered };
  };
  return [make(), make()];
}

async function handshake(a: Instance, client: ScriptedPskClient): Promise<void> {
  a.server.receive(client.clientHello(), PEER);
  client.onDatagram(a.out.shift() as Buffer);
  a.server.receive(client.clientHello(), PEER);
  await settle();
  for (const d of a.out.splice(0)) client.onDatagram(d);
  for (const d of client.flight5()) a.server.receive(d, PEER);
  await settle();
  for (const d of a.out.splice(0)) client.onDatagram(d);
  expect(client.established).toBe(true);
}

describe('DTLS connections continued on another instance', () => {
  for (const [name, cidLength] of [
    ['with a connection ID', 0],
    ["by the device's address (no connection ID)", undefined],
  ] as const) {
    it(`${name}: no new handshake, and the other instance answers with write numbers of its own`, async () => {
      const [a, b] = instances();
      const client = new ScriptedPskClient({
        identity: 'dev',
        key: KEY,
        ...(cidLength !== undefined ? { cidLength } : {}),
      });
      await handshake(a, client);
      a.server.receive(client.seal(Buffer.from('one')), PEER);
      expect(a.delivered).toEqual(['one']);
      client.onDatagram(a.out.shift() as Buffer);
      // The balancer moves the device (a NAT rebinding too, when a CID carries it).
      const to: Peer = cidLength !== undefined ? { address: '198.51.100.4', port: 61000 } : PEER;
      b.server.receive(client.seal(Buffer.from('two')), to);
      for (let i = 0; i < 5 && b.delivered.length === 0; i++) await settle();
      expect(b.delivered).toEqual(['two']);
      expect(b.events.some((e) => e.type === 'continued' && e.session.identity.endpoint === 'ep-dev')).toBe(true);
      expect(b.events.some((e) => e.type === 'handshake-done')).toBe(false);
      const answer = b.out.shift() as Buffer;
      client.onDatagram(answer);
      expect(client.received.map(String)).toEqual(['re:one', 're:two']);
      const [rec] = parseRecords(answer, 0).records;
      expect(rec?.sequence).toBeGreaterThanOrEqual(WRITE_BLOCK); // the first block is instance a's
    });
  }

  it('a record the first instance accepted before it recorded its read mark can be replayed once to the other; after the mark, not', async () => {
    const [a, b] = instances();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    await handshake(a, client);
    const early = client.seal(Buffer.from('early'));
    a.server.receive(early, PEER);
    // 100 more records: a records its read mark (at most every 100 records or every second).
    for (let i = 0; i < 100; i++) a.server.receive(client.seal(Buffer.from(`n${i}`)), PEER);
    await settle();
    b.server.receive(early, PEER);
    for (let i = 0; i < 5; i++) await settle();
    expect(b.delivered).toEqual([]);
    expect(b.events.some((e) => e.type === 'dropped' && e.kind === 'unauthentic')).toBe(true);
    b.server.receive(client.seal(Buffer.from('fresh')), PEER);
    expect(b.delivered).toEqual(['fresh']);
  });

  it('a record nobody knows is dropped, and the miss is remembered (no second lookup)', async () => {
    const [, b] = instances();
    const client = new ScriptedPskClient({ identity: 'dev', key: KEY });
    const [a2] = instances();
    await handshake(a2, client); // on a store b does not share
    const stranger = client.seal(Buffer.from('x'));
    b.server.receive(stranger, PEER);
    for (let i = 0; i < 5; i++) await settle();
    b.server.receive(stranger, PEER);
    const drops = b.events.filter((e): e is Extract<DtlsEvent, { type: 'dropped' }> => e.type === 'dropped');
    expect(drops.map((d) => d.reason)).toEqual([
      'no connection here, nor in the shared store',
      'no connection here, nor in the shared store (recently looked up)',
    ]);
  });
});
