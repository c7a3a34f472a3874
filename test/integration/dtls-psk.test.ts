/**
 * The DTLS server with PSK against peers nobody here wrote, on real UDP sockets (port 0):
 * OpenSSL's `openssl s_client -dtls1_2` for each PSK cipher suite and for the failures (wrong
 * key, unknown identity), libcoap's coap-client-openssl registering over CoAPS with the LwM2M
 * server, and a raw flood of ClientHellos without cookies, which must leave no state.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { DtlsServer, type DtlsEvent } from '../../src/dtls/dtls-server';
import { encodeHandshake, HandshakeType, parseHandshakeFragments } from '../../src/dtls/handshake/header';
import { ContentType, encodeRecord, parseRecords, DTLS_1_0 } from '../../src/dtls/record';
import { WireWriter } from '../../src/dtls/wire';
import { DtlsTransport } from '../../src/dtls/dtls-transport';
import { UdpTransport } from '../../src/transport/udp';
import { runCoapClient } from '../support/coap-cli';
import { opensslDtlsClient } from '../support/openssl-client';
import { startTestServer, type TestServer } from '../support/test-server';

const KEY_HEX = '0102030405060708090a0b0c0d0e0f10';
/** Identities whose credentials were taken away. */
const revoked = new Set<string>();
const credentials = {
  psk: async (identity: string) =>
    revoked.has(identity)
      ? undefined
      : identity === 'dev1'
        ? { key: Buffer.from(KEY_HEX, 'hex'), endpoint: 'psk-dev1' }
        : identity === 'coap-cli'
          ? { key: Buffer.from('secret-key-0123'), endpoint: 'cli-psk' }
          : undefined,
};

/** `openssl s_client -dtls1_2 -quiet`: sends `line`, returns what it printed once `expect` showed (or it ended). */
const sClient = (port: number, args: readonly string[], line: string, expect: string): Promise<string> =>
  opensslDtlsClient(port, ['-quiet', ...args], line, expect);

describe('DTLS 1.2 PSK against OpenSSL (echo server on the engine)', () => {
  let udp: UdpTransport;
  let server: DtlsServer;
  const events: DtlsEvent[] = [];

  beforeAll(async () => {
    udp = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
    server = new DtlsServer({
      credentials,
      send: (d, p) => udp.send(d, p),
      deliver: (data, peer) => void server.send(Buffer.from(`echo:${data.toString()}`), peer),
      onEvent: (e) => void events.push(e),
    });
    udp.onDatagram((d, p) => server.receive(d, p));
  });
  afterAll(async () => {
    server.close();
    await udp.close();
  });

  for (const [cipher, suite] of [
    ['PSK-AES128-CCM8', 'TLS_PSK_WITH_AES_128_CCM_8'],
    ['PSK-AES128-GCM-SHA256', 'TLS_PSK_WITH_AES_128_GCM_SHA256'],
    ['PSK-AES128-CBC-SHA256', 'TLS_PSK_WITH_AES_128_CBC_SHA256'],
  ] as const) {
    it(`completes a handshake with ${suite} (extended master secret) and exchanges data`, async () => {
      const out = await sClient(
        udp.local().port,
        ['-psk_identity', 'dev1', '-psk', KEY_HEX, '-cipher', cipher],
        `hello ${cipher}`,
        `echo:hello ${cipher}`,
      );
      expect(out).toContain(`echo:hello ${cipher}`);
      const done = events
        .filter((e): e is Extract<DtlsEvent, { type: 'handshake-done' }> => e.type === 'handshake-done')
        .pop();
      expect(done?.session).toEqual({
        suite,
        identity: { mode: 'psk', name: 'dev1', endpoint: 'psk-dev1' },
        extendedMasterSecret: true,
        resumed: false,
      });
      // No key material in events.
      expect(JSON.stringify(done)).not.toMatch(new RegExp(KEY_HEX));
    });
  }

  it('resumes a session by its ID (abbreviated handshake), and not once its credential is gone', async () => {
    const sess = join(mkdtempSync(join(tmpdir(), 'dtls-sess-')), 'session.pem');
    const args = ['-psk_identity', 'dev1', '-psk', KEY_HEX, '-cipher', 'PSK-AES128-CCM8'];
    expect(await sClient(udp.local().port, [...args, '-sess_out', sess], 'first', 'echo:first')).toContain(
      'echo:first',
    );
    const again = await sClient(udp.local().port, [...args, '-sess_in', sess], 'second', 'echo:second');
    expect(again).toContain('echo:second');
    const done = events
      .filter((e): e is Extract<DtlsEvent, { type: 'handshake-done' }> => e.type === 'handshake-done')
      .slice(-2);
    expect(done.map((e) => e.session.resumed)).toEqual([false, true]);
    expect(done[1]?.session.identity).toEqual({ mode: 'psk', name: 'dev1', endpoint: 'psk-dev1' });
    // Revoked: the stored session is not resumed; the full handshake then fails on the identity.
    revoked.add('dev1');
    try {
      const refused = await sClient(udp.local().port, [...args, '-sess_in', sess], 'third', 'alert');
      expect(refused).toMatch(/alert unknown psk identity/);
    } finally {
      revoked.delete('dev1');
    }
  });

  it('a wrong key fails with bad_record_mac, and no connection is kept', async () => {
    const before = server.connectionCount;
    const out = await sClient(
      udp.local().port,
      ['-psk_identity', 'dev1', '-psk', 'ff' + KEY_HEX.slice(2), '-cipher', 'PSK-AES128-CCM8'],
      'x',
      'alert',
    );
    expect(out).toMatch(/alert bad record mac/);
    expect(events.some((e) => e.type === 'handshake-failed' && e.alert === 'bad_record_mac')).toBe(true);
    expect(server.connectionCount).toBe(before);
  });

  it('an unknown identity fails with unknown_psk_identity (RFC 4279 §2)', async () => {
    const out = await sClient(
      udp.local().port,
      ['-psk_identity', 'nobody', '-psk', KEY_HEX, '-cipher', 'PSK-AES128-CCM8'],
      'x',
      'alert',
    );
    expect(out).toMatch(/alert unknown psk identity/);
    expect(
      events.some(
        (e) => e.type === 'handshake-failed' && e.alert === 'unknown_psk_identity' && e.reason.includes('"nobody"'),
      ),
    ).toBe(true);
  });

  it('answers a flood of ClientHellos without cookie statelessly (HelloVerifyRequest, same record number, no handshake state)', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    const answers: Array<{ seq: number; type: number }> = [];
    sock.on('message', (m) => {
      for (const r of parseRecords(m, 0).records) {
        const [f] = parseHandshakeFragments(r.fragment);
        answers.push({ seq: r.sequence, type: f?.type ?? -1 });
      }
    });
    const hello = new WireWriter()
      .u16(0xfefd)
      .bytes(Buffer.alloc(32, 5))
      .vector(1, Buffer.alloc(0))
      .vector(1, Buffer.alloc(0))
      .vector(2, Buffer.from('c0a8', 'hex'))
      .vector(1, Buffer.from([0]))
      .toBuffer();
    const n = 500;
    const deadline = Date.now() + 20_000;
    // In bursts of 50 that the socket buffers hold, each burst answered before the next.
    for (let i = 0; i < n; i++) {
      sock.send(
        encodeRecord(
          ContentType.HANDSHAKE,
          0,
          1000 + i,
          encodeHandshake(HandshakeType.CLIENT_HELLO, 0, hello),
          undefined,
          DTLS_1_0,
        ),
        udp.local().port,
        '127.0.0.1',
      );
      if ((i + 1) % 50 === 0)
        while (answers.length < i + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
    sock.close();
    expect(answers).toHaveLength(n);
    expect(answers.every((a) => a.type === HandshakeType.HELLO_VERIFY_REQUEST)).toBe(true);
    expect(answers.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => 1000 + i));
    expect(server.handshakeCount).toBe(0);
  });
});

describe('CoAPS: libcoap coap-client-openssl registers with the LwM2M server over DTLS PSK', () => {
  let srv: TestServer;

  beforeAll(async () => {
    srv = await startTestServer({ transport: await DtlsTransport.bind({ host: '127.0.0.1', port: 0, credentials }) });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it('registers (2.01 Created) with the identity and key of a provisioned device', async () => {
    const url = `coaps://127.0.0.1:${srv.address.port}/rd?ep=cli-psk&lt=60&lwm2m=1.1&b=U`;
    const r = await runCoapClient(
      [
        '-m',
        'post',
        '-t',
        '40',
        '-e',
        '</1/0>,</3/0>',
        '-u',
        'coap-cli',
        '-k',
        'secret-key-0123',
        '-v',
        '6',
        '-B',
        '5',
        url,
      ],
      { binary: 'coap-client-openssl', timeoutMs: 20_000 },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/c:2\.01/);
    const reg = await srv.waitForEvent('registered', (e) => e.registration.endpoint === 'cli-psk');
    expect(reg.registration.objects.map((o) => o.objectId)).toEqual([1, 3]);
  });

  it('with a wrong key nothing registers', async () => {
    const url = `coaps://127.0.0.1:${srv.address.port}/rd?ep=cli-psk-bad&lt=60`;
    const r = await runCoapClient(
      ['-m', 'post', '-u', 'coap-cli', '-k', 'not-the-key-123', '-v', '6', '-B', '3', url],
      { binary: 'coap-client-openssl', timeoutMs: 20_000 },
    );
    expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/c:2\.01/);
    expect(await srv.registrations.getByEndpoint('cli-psk-bad')).toBeUndefined();
  });
});
