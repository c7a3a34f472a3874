/**
 * Leshan's client (Californium/Scandium 3.12 underneath) over CoAPS against our DTLS server and
 * LwM2M server on real UDP port 0, in PSK, raw public key and X.509 modes: registration, Read,
 * Observe with notifications, Send; with and without DTLS connection IDs (RFC 9146), and with an
 * identity bound to another endpoint (4.03, nothing registered).
 */
import { parsePath } from '../../src/lwm2m/path';
import { ContentFormat } from '../../src/lwm2m/codec/types';
import type { LwM2mNode } from '../../src/lwm2m/node';
import { DtlsTransport } from '../../src/dtls/dtls-transport';
import type { DtlsEvent } from '../../src/dtls/dtls-server';
import { startLeshanClient, type LeshanClientHandle } from '../support/leshan-client';
import { makePki, type Pki } from '../support/pki';
import { certificatesFromPem, loadServerIdentity } from '../../src/dtls/server-identity';
import { publicKeyDer, rpkFingerprint } from '../../src/security/credentials';
import { startTestServer, type TestServer } from '../support/test-server';

const KEYS: Record<string, { key: string; endpoint: string }> = {
  'id-plain': { key: '73656372657431', endpoint: 'leshan-psk-1' },
  'id-cid': { key: '73656372657432', endpoint: 'leshan-psk-cid' },
  'id-other': { key: '73656372657433', endpoint: 'someone-else' },
};

let srv: TestServer;
let pki: Pki;
let rpkKey: { key: string; publicPem: string; combined: string };
let x509Client: { key: string; cert: string };
let transport: DtlsTransport;
const dtlsEvents: DtlsEvent[] = [];
const clients: LeshanClientHandle[] = [];

beforeAll(async () => {
  pki = makePki();
  rpkKey = pki.rawKey('leshan-rpk');
  x509Client = pki.client('leshan-x509');
  const rpkFp = rpkFingerprint(publicKeyDer(rpkKey.publicPem) as Buffer);
  transport = await DtlsTransport.bind({
    host: '127.0.0.1',
    port: 0,
    serverIdentity: loadServerIdentity(pki.read(pki.serverKey), pki.read(pki.serverCert)),
    trustAnchors: certificatesFromPem(pki.read(pki.caCert), 'test CA'),
    credentials: {
      psk: async (identity) =>
        KEYS[identity] !== undefined
          ? { key: Buffer.from(KEYS[identity].key, 'hex'), endpoint: KEYS[identity].endpoint }
          : undefined,
      rpk: async (der) => (rpkFingerprint(der) === rpkFp ? { endpoint: 'leshan-rpk' } : undefined),
      x509: async (cn) => (cn === 'leshan-x509' ? { endpoint: cn } : undefined),
    },
    onEvent: (e) => void dtlsEvents.push(e),
  });
  srv = await startTestServer({
    transport,
    requestTimeoutMs: 15_000,
    transmission: { ackTimeoutMs: 2000, ackRandomFactor: 1.5, maxRetransmit: 4 },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await srv?.stop();
  pki?.remove();
});

const valueOf = (node: LwM2mNode | undefined): unknown =>
  node && (node.kind === 'resource' || node.kind === 'resourceInstance') ? node.value : undefined;

type Mode = 'psk' | 'rpk' | 'x509';
const MODES: Array<[string, Mode, string, number | undefined, string]> = [
  ['PSK without connection ID', 'psk', 'leshan-psk-1', undefined, 'TLS_PSK_WITH_AES_128_CCM_8'],
  ['PSK with a 4-byte connection ID of its own', 'psk', 'leshan-psk-cid', 4, 'TLS_PSK_WITH_AES_128_CCM_8'],
  ['raw public key', 'rpk', 'leshan-rpk', undefined, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
  ['raw public key with a connection ID', 'rpk', 'leshan-rpk', 0, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
  ['X.509', 'x509', 'leshan-x509', undefined, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
  ['X.509 with a connection ID', 'x509', 'leshan-x509', 4, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
];

describe.each(MODES)('Leshan client, %s', (_name, mode, endpoint, cidLength, suite) => {
  const identity = endpoint === 'leshan-psk-1' ? 'id-plain' : 'id-cid';
  let client: LeshanClientHandle;
  /** Events seen before this client started: an earlier case may have registered the same endpoint. */
  let eventsBefore = 0;
  let dtlsBefore = 0;

  beforeAll(async () => {
    const security =
      mode === 'psk'
        ? { psk: { identity, keyHex: KEYS[identity]?.key as string } }
        : mode === 'rpk'
          ? { rpk: { clientKey: rpkKey.key, clientPublicKey: rpkKey.combined, serverPublicKey: pki.serverPublicKey } }
          : { x509: { clientKey: x509Client.key, clientCert: x509Client.cert, serverCert: pki.serverCert } };
    eventsBefore = srv.events.length;
    dtlsBefore = dtlsEvents.length;
    client = await startLeshanClient({
      serverPort: transport.local().port,
      endpoint,
      lifetime: 300,
      tickMs: 200,
      ...security,
      ...(cidLength !== undefined ? { cidLength } : {}),
    });
    clients.push(client);
    await client.waitFor(/^REGISTERED /, 30_000);
  }, 60_000);

  afterAll(async () => {
    await client.stop();
  });

  it('registers over DTLS; the registration records how it authenticated', async () => {
    const e = await srv.waitForEvent(
      'registered',
      (x) => x.registration.endpoint === endpoint && srv.events.indexOf(x) >= eventsBefore,
    );
    expect(e.registration.security?.mode).toBe(mode);
    if (mode === 'psk') expect(e.registration.security?.name).toBe(identity);
    if (mode === 'x509') expect(e.registration.security?.name).toBe('leshan-x509');
    if (mode === 'rpk') expect(e.registration.security?.name).toMatch(/^sha256:[0-9a-f]{64}$/);
    const done = dtlsEvents
      .slice(dtlsBefore)
      .filter(
        (d): d is Extract<DtlsEvent, { type: 'handshake-done' }> =>
          d.type === 'handshake-done' && d.session.identity.endpoint === endpoint,
      )
      .pop();
    expect(done?.session.suite).toBe(suite);
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
    await srv.waitForEvent(
      'notification',
      (e) => e.observation.token === token && typeof valueOf(e.nodes.get('/3303/0/5700') ?? undefined) === 'number',
    );
    const sends = srv.events.filter((e) => e.type === 'send' && e.registration.endpoint === endpoint).length;
    client.send('send /3/0/9');
    await srv.waitForEvent(
      'send',
      (e) =>
        e.registration.endpoint === endpoint &&
        srv.events.filter((x) => x.type === 'send' && x.registration.endpoint === endpoint).length > sends,
    );
    expect(await srv.server.cancelObservations(endpoint, { kind: 'single', paths: ['/3303/0/5700'] }, 'active')).toBe(
      1,
    );
  });
});

describe('an identity bound to another endpoint', () => {
  it('completes the handshake but may not register as a different endpoint (4.03), and nothing is registered', async () => {
    const client = await startLeshanClient({
      serverPort: transport.local().port,
      endpoint: 'impostor-1',
      lifetime: 300,
      psk: { identity: 'id-other', keyHex: KEYS['id-other']?.key as string },
    });
    clients.push(client);
    await client.waitFor(/^REGISTRATION_FAILED FORBIDDEN/, 30_000);
    const rejected = await srv.waitForEvent('rejected', (e) => e.code === 0x83 && e.reason.includes('"id-other"'));
    expect(rejected.reason).toContain('bound to endpoint "someone-else", not "impostor-1"');
    expect(await srv.registrations.getByEndpoint('impostor-1')).toBeUndefined();
    await client.stop();
  }, 60_000);
});
