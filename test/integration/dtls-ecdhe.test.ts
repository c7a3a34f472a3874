/**
 * DTLS with ECDHE_ECDSA against peers nobody here wrote, on real UDP port 0: OpenSSL's s_client
 * with X.509 client certificates for each suite and for every refusal (untrusted, expired, CN not
 * allowed, no certificate), @nodertc/dtls with PSK and with a certificate (ECDHE on P-384), and
 * libcoap's coap-client-openssl registering with a client certificate and coap-client-gnutls
 * registering with a raw public key (RFC 7250).
 */
import { readFileSync } from 'node:fs';
import * as nodertc from '@nodertc/dtls';
import { DtlsServer, type DtlsEvent } from '../../src/dtls/dtls-server';
import { certificatesFromPem, loadServerIdentity } from '../../src/dtls/server-identity';
import { publicKeyDer, rpkFingerprint } from '../../src/security/credentials';
import { DtlsTransport } from '../../src/dtls/dtls-transport';
import { UdpTransport } from '../../src/transport/udp';
import { runCoapClient } from '../support/coap-cli';
import { opensslDtlsClient } from '../support/openssl-client';
import { makePki, type Pki } from '../support/pki';
import { startTestServer, type TestServer } from '../support/test-server';

jest.setTimeout(60_000);

let pki: Pki;
const PSK = Buffer.from('6e6f6465727463206b6579', 'hex');
/** CNs allowed to connect, and the endpoint each is bound to. */
const ALLOWED = new Map([
  ['x509-dev-1', 'x509-dev-1'],
  ['nodertc-dev', 'nodertc-dev'],
]);
let rpkAllowed = new Map<string, string>();

const credentials = {
  psk: async (identity: string) => (identity === 'nodertc-psk' ? { key: PSK, endpoint: 'nodertc-psk' } : undefined),
  x509: async (cn: string) => (ALLOWED.has(cn) ? { endpoint: ALLOWED.get(cn) as string } : undefined),
  rpk: async (der: Buffer) =>
    rpkAllowed.has(rpkFingerprint(der)) ? { endpoint: rpkAllowed.get(rpkFingerprint(der)) as string } : undefined,
};

interface EchoServer {
  readonly port: number;
  readonly events: DtlsEvent[];
  close(): Promise<void>;
}

async function echoServer(now?: () => Date): Promise<EchoServer> {
  const udp = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const events: DtlsEvent[] = [];
  const server: DtlsServer = new DtlsServer({
    credentials,
    serverIdentity: loadServerIdentity(pki.read(pki.serverKey), pki.read(pki.serverCert)),
    trustAnchors: certificatesFromPem(pki.read(pki.caCert), 'test CA'),
    ...(now !== undefined ? { now } : {}),
    send: (d, p) => udp.send(d, p),
    deliver: (data, peer) => void server.send(Buffer.from(`echo:${data.toString()}`), peer),
    onEvent: (e) => void events.push(e),
  });
  udp.onDatagram((d, p) => server.receive(d, p));
  return { port: udp.local().port, events, close: async () => (server.close(), await udp.close()) };
}

/** `openssl s_client -dtls1_2` trusting the test CA: sends `line`, returns what it printed once `expect` matched. */
const sClient = (port: number, args: readonly string[], line: string, expect: RegExp): Promise<string> =>
  opensslDtlsClient(port, ['-CAfile', pki.caCert, ...args], line, expect);

const lastFailure = (events: DtlsEvent[]): Extract<DtlsEvent, { type: 'handshake-failed' }> | undefined =>
  events.filter((e): e is Extract<DtlsEvent, { type: 'handshake-failed' }> => e.type === 'handshake-failed').pop();

beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki?.remove());

describe('ECDHE_ECDSA with X.509 client certificates, against openssl s_client', () => {
  let srv: EchoServer;
  let client: { key: string; cert: string };
  beforeAll(async () => {
    srv = await echoServer();
    client = pki.client('x509-dev-1');
  });
  afterAll(() => srv.close());

  for (const [cipher, suite] of [
    ['ECDHE-ECDSA-AES128-CCM8', 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
    ['ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
    ['ECDHE-ECDSA-AES128-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
  ] as const) {
    it(`${suite}: both sides verify each other's certificate, the CN names the device`, async () => {
      const out = await sClient(
        srv.port,
        ['-cert', client.cert, '-key', client.key, '-cipher', cipher, '-verify_return_error'],
        `hello ${cipher}`,
        /echo:hello|alert|error/,
      );
      expect(out).toContain(`echo:hello ${cipher}`);
      expect(out).toMatch(/verify return:1/);
      const done = srv.events
        .filter((e): e is Extract<DtlsEvent, { type: 'handshake-done' }> => e.type === 'handshake-done')
        .pop();
      expect(done?.session).toMatchObject({
        suite,
        identity: { mode: 'x509', name: 'x509-dev-1', endpoint: 'x509-dev-1' },
        extendedMasterSecret: true,
      });
    });
  }

  it('refuses a certificate no trusted CA issued (unknown_ca)', async () => {
    const rogue = pki.client('x509-dev-1', { selfSigned: true });
    const out = await sClient(
      srv.port,
      ['-cert', rogue.cert, '-key', rogue.key, '-cipher', 'ECDHE-ECDSA-AES128-CCM8'],
      'x',
      /alert|echo:/,
    );
    expect(out).toMatch(/alert unknown ca/);
    expect(lastFailure(srv.events)).toMatchObject({ alert: 'unknown_ca' });
  });

  it('refuses a trusted certificate whose CN is not allowed (access_denied)', async () => {
    const stranger = pki.client('not-provisioned');
    const out = await sClient(
      srv.port,
      ['-cert', stranger.cert, '-key', stranger.key, '-cipher', 'ECDHE-ECDSA-AES128-CCM8'],
      'x',
      /alert|echo:/,
    );
    expect(out).toMatch(/alert access denied/);
    expect(lastFailure(srv.events)?.reason).toContain('"not-provisioned"');
  });

  it('refuses a client without a certificate (handshake_failure)', async () => {
    const out = await sClient(srv.port, ['-cipher', 'ECDHE-ECDSA-AES128-CCM8'], 'x', /alert|echo:/);
    expect(out).toMatch(/alert handshake failure/);
    expect(lastFailure(srv.events)).toMatchObject({ alert: 'handshake_failure' });
  });

  it('refuses an expired certificate (certificate_expired)', async () => {
    const later = await echoServer(() => new Date(Date.now() + 60 * 86_400_000));
    try {
      const out = await sClient(
        later.port,
        ['-cert', client.cert, '-key', client.key, '-cipher', 'ECDHE-ECDSA-AES128-CCM8'],
        'x',
        /alert|echo:/,
      );
      expect(out).toMatch(/alert certificate expired/);
      expect(lastFailure(later.events)).toMatchObject({ alert: 'certificate_expired' });
    } finally {
      await later.close();
    }
  });
});

describe('@nodertc/dtls as the client', () => {
  let srv: EchoServer;
  beforeAll(async () => {
    srv = await echoServer();
  });
  afterAll(() => srv.close());

  function exchange(options: Omit<nodertc.ConnectOptions, 'type' | 'remoteAddress' | 'remotePort'>): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = nodertc.connect({
        type: 'udp4',
        remoteAddress: '127.0.0.1',
        remotePort: srv.port,
        maxHandshakeRetransmissions: 3,
        ...options,
      });
      const timer = setTimeout(() => reject(new Error('no echo from the server within 10 s')), 10_000);
      socket.on('error', (err: Error) => reject(err));
      socket.on('connect', () => socket.write(Buffer.from('hi from nodertc')));
      socket.on('data', (d: Buffer) => {
        clearTimeout(timer);
        socket.close();
        resolve(d.toString());
      });
    });
  }

  it('PSK with AES-128-GCM', async () => {
    expect(
      await exchange({ pskIdentity: 'nodertc-psk', pskSecret: PSK, cipherSuites: ['TLS_PSK_WITH_AES_128_GCM_SHA256'] }),
    ).toBe('echo:hi from nodertc');
  });

  it('ECDHE_ECDSA with AES-128-GCM on P-384, with a client certificate', async () => {
    const c = pki.client('nodertc-dev');
    const serverCertDer = certificatesFromPem(pki.read(pki.serverCert), 'server')[0]?.raw;
    const echoed = await exchange({
      certificate: readFileSync(c.cert),
      certificatePrivateKey: readFileSync(c.key),
      cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
      checkServerIdentity: (cert) => (cert as { raw: Buffer }).raw.equals(serverCertDer as Buffer),
    });
    expect(echoed).toBe('echo:hi from nodertc');
    const done = srv.events
      .filter((e): e is Extract<DtlsEvent, { type: 'handshake-done' }> => e.type === 'handshake-done')
      .pop();
    expect(done?.session.identity).toEqual({ mode: 'x509', name: 'nodertc-dev', endpoint: 'nodertc-dev' });
  });
});

describe('X.509: coap-client-openssl registers with the LwM2M server with a client certificate', () => {
  let srv: TestServer;
  let transport: DtlsTransport;
  beforeAll(async () => {
    transport = await DtlsTransport.bind({
      host: '127.0.0.1',
      port: 0,
      credentials,
      serverIdentity: loadServerIdentity(pki.read(pki.serverKey), pki.read(pki.serverCert)),
      trustAnchors: certificatesFromPem(pki.read(pki.caCert), 'test CA'),
    });
    srv = await startTestServer({ transport });
  });
  afterAll(() => srv.stop());

  it('a certificate whose CN is allowed registers as its endpoint (2.01); one no CA issued does not', async () => {
    const good = pki.client('x509-dev-1');
    const url = (ep: string): string => `coaps://127.0.0.1:${transport.local().port}/rd?ep=${ep}&lt=60&b=U`;
    const ok = await runCoapClient(
      [
        '-m',
        'post',
        '-t',
        '40',
        '-e',
        '</3/0>',
        '-c',
        good.cert,
        '-j',
        good.key,
        '-C',
        pki.caCert,
        '-v',
        '6',
        '-B',
        '5',
        url('x509-dev-1'),
      ],
      { binary: 'coap-client-openssl', timeoutMs: 20_000 },
    );
    expect(`${ok.stdout}\n${ok.stderr}`).toMatch(/c:2\.01/);
    const reg = await srv.waitForEvent('registered', (e) => e.registration.endpoint === 'x509-dev-1');
    expect(reg.registration.security).toEqual({ mode: 'x509', name: 'x509-dev-1' });
    const rogue = pki.client('x509-dev-1', { selfSigned: true });
    const refused = await runCoapClient(
      ['-m', 'post', '-c', rogue.cert, '-j', rogue.key, '-C', pki.caCert, '-v', '6', '-B', '3', url('x509-dev-1')],
      { binary: 'coap-client-openssl', timeoutMs: 20_000 },
    );
    expect(`${refused.stdout}\n${refused.stderr}`).not.toMatch(/c:2\.01/);
  });
});

describe('raw public keys (RFC 7250): coap-client-gnutls registers with the LwM2M server', () => {
  let srv: TestServer;
  let transport: DtlsTransport;
  beforeAll(async () => {
    transport = await DtlsTransport.bind({
      host: '127.0.0.1',
      port: 0,
      credentials,
      serverIdentity: loadServerIdentity(pki.read(pki.serverKey), undefined),
    });
    srv = await startTestServer({ transport });
  });
  afterAll(() => srv.stop());

  it('a provisioned key registers as its endpoint; another key gets no session', async () => {
    const good = pki.rawKey('rpk-dev-1');
    rpkAllowed = new Map([[rpkFingerprint(publicKeyDer(good.publicPem) as Buffer), 'rpk-dev-1']]);
    const url = (ep: string): string => `coaps://127.0.0.1:${transport.local().port}/rd?ep=${ep}&lt=60&b=U`;
    const ok = await runCoapClient(
      ['-m', 'post', '-t', '40', '-e', '</3/0>', '-M', good.combined, '-v', '6', '-B', '5', url('rpk-dev-1')],
      { binary: 'coap-client-gnutls', timeoutMs: 20_000 },
    );
    expect(`${ok.stdout}\n${ok.stderr}`).toMatch(/c:2\.01/);
    const reg = await srv.waitForEvent('registered', (e) => e.registration.endpoint === 'rpk-dev-1');
    expect(reg.registration.security?.mode).toBe('rpk');
    const other = pki.rawKey('rpk-stranger');
    const refused = await runCoapClient(
      ['-m', 'post', '-M', other.combined, '-v', '6', '-B', '3', url('rpk-stranger')],
      { binary: 'coap-client-gnutls', timeoutMs: 20_000 },
    );
    expect(`${refused.stdout}\n${refused.stderr}`).not.toMatch(/c:2\.01/);
    expect(await srv.registrations.getByEndpoint('rpk-stranger')).toBeUndefined();
  });
});
