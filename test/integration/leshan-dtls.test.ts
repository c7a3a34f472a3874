/**
 * Leshan's client (Californium/Scandium 3.12 underneath) over CoAPS with PSK against our DTLS
 * server and LwM2M server on real UDP port 0: registration, Read, Observe with notifications,
 * Send; with and without DTLS connection IDs (RFC 9146), and with an identity bound to another
 * endpoint (4.03, nothing registered).
 */
import { parsePath } from '../../src/lwm2m/path';
import { ContentFormat } from '../../src/lwm2m/codec/types';
import type { LwM2mNode } from '../../src/lwm2m/node';
import { DtlsTransport } from '../../src/transport/dtls-transport';
import type { DtlsEvent } from '../../src/dtls/dtls-server';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { startTestServer, type TestServer } from '../support/test-server';

const KEYS: Record<string, { key: string; endpoint: string }> = {
  'id-plain': { key: '73656372657431', endpoint: 'leshan-psk-1' },
  'id-cid': { key: '73656372657432', endpoint: 'leshan-psk-cid' },
  'id-other': { key: '73656372657433', endpoint: 'someone-else' },
};

let srv: TestServer;
let transport: DtlsTransport;
const dtlsEvents: DtlsEvent[] = [];
const clients: LeshanClientHandle[] = [];

beforeAll(async () => {
  transport = await DtlsTransport.bind({
    host: '127.0.0.1',
    port: 0,
    credentials: { psk: async (identity) => (KEYS[identity] !== undefined ? { key: Buffer.from(KEYS[identity].key, 'hex'), endpoint: KEYS[identity].endpoint } : undefined) },
    onEvent: (e) => void dtlsEvents.push(e),
  });
  srv = await startTestServer({ transport, requestTimeoutMs: 15_000, transmission: { ackTimeoutMs: 2000, ackRandomFactor: 1.5, maxRetransmit: 4 } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv?.stop();
});

const valueOf = (node: LwM2mNode | undefined): unknown => (node && (node.kind === 'resource' || node.kind === 'resourceInstance') ? node.value : undefined);

describe.each([
  ['without connection ID', 'id-plain', undefined],
  ['with a 4-byte connection ID of its own', 'id-cid', 4],
] as const)('Leshan client with PSK, %s', (_name, identity, cidLength) => {
  const endpoint = KEYS[identity]?.endpoint as string;
  let client: LeshanClientHandle;

  beforeAll(async () => {
    client = await startLeshanClient({ serverPort: transport.local().port, endpoint, lifetime: 300, tickMs: 200, psk: { identity, keyHex: KEYS[identity]?.key as string }, ...(cidLength !== undefined ? { cidLength } : {}) });
    clients.push(client);
    await client.waitFor(/^REGISTERED /, 30_000);
  }, 60_000);

  it('registers over DTLS; the registration records how it authenticated', async () => {
    const e = await srv.waitForEvent('registered', (x) => x.registration.endpoint === endpoint);
    expect(e.registration.security).toEqual({ mode: 'psk', name: identity });
    const done = dtlsEvents.find((d): d is Extract<DtlsEvent, { type: 'handshake-done' }> => d.type === 'handshake-done' && d.session.identity.name === identity);
    expect(done?.session.suite).toBe('TLS_PSK_WITH_AES_128_CCM_8');
    expect(done?.session.extendedMasterSecret).toBe(true);
    // Californium offers a connection ID only when configured; the server then issues one.
    expect(done?.session.ownCidLength).toBe(cidLength !== undefined ? 6 : undefined);
    expect(done?.session.peerCidLength).toBe(cidLength);
  });

  it('is read and observed, and its notifications and Send arrive', async () => {
    const r = await srv.server.read(endpoint, parsePath('/3/0/9'), { format: ContentFormat.SENML_CBOR });
    expect(r.result).toBe('CONTENT');
    expect(valueOf(r.node)).toBe(87);
    const o = await srv.server.observe(endpoint, parsePath('/3303/0/5700'), { format: ContentFormat.SENML_CBOR });
    expect(o.result).toBe('CONTENT');
    const token = o.observation?.token;
    await srv.waitForEvent('notification', (e) => e.observation.token === token && typeof valueOf(e.nodes.get('/3303/0/5700') ?? undefined) === 'number');
    client.send('send /3/0/9');
    await srv.waitForEvent('send', (e) => e.registration.endpoint === endpoint);
    expect(await srv.server.cancelObservations(endpoint, { kind: 'single', paths: ['/3303/0/5700'] }, 'active')).toBe(1);
  });
});

describe('an identity bound to another endpoint', () => {
  it('completes the handshake but may not register as a different endpoint (4.03), and nothing is registered', async () => {
    const client = await startLeshanClient({ serverPort: transport.local().port, endpoint: 'impostor-1', lifetime: 300, psk: { identity: 'id-other', keyHex: KEYS['id-other']?.key as string } });
    clients.push(client);
    await client.waitFor(/^REGISTRATION_FAILED FORBIDDEN/, 30_000);
    const rejected = await srv.waitForEvent('rejected', (e) => e.code === 0x83 && e.reason.includes('"id-other"'));
    expect(rejected.reason).toContain('bound to endpoint "someone-else", not "impostor-1"');
    expect(await srv.registrations.getByEndpoint('impostor-1')).toBeUndefined();
    await client.stop();
  }, 60_000);
});
