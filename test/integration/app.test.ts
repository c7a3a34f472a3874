/**
 * The process as an operator runs it: configuration errors, the HTTP API, metrics.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config/env';
import { MessageType, Method, Opt } from '../../src/coap/message';
import { pathOptions, uintOption } from '../../src/coap/options';
import { createLogger } from '../../src/observability/logger';
import { ScriptedPeer } from '../support/scripted-peer';
import { makePki } from '../support/pki';

describe('start-up', () => {
  it('stops with exit code 2 and a message naming a bad variable', () => {
    const main = join(__dirname, '../../dist/src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first (npm test does)`);
    const r = spawnSync(process.execPath, [main], {
      env: { ...process.env, COAP_PORT: 'seventy', COAP_BLOCK_SIZE: '1000' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('COAP_PORT="seventy"');
    expect(r.stderr).toContain('COAP_BLOCK_SIZE="1000"');
  });

  it('stops with exit code 2 when the DTLS server key or certificate cannot be used, naming the variable', () => {
    const main = join(__dirname, '../../dist/src/main.js');
    const pki = makePki();
    try {
      const other = pki.client('someone');
      const rsa = join(pki.dir, 'rsa.key');
      writeFileSync(
        rsa,
        generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
      );
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ DTLS_SERVER_KEY: join(pki.dir, 'missing.key') }, /DTLS_SERVER_KEY: cannot read .*missing\.key/],
        [{ DTLS_SERVER_KEY: rsa }, /must be an EC key on P-256/],
        [
          { DTLS_SERVER_KEY: pki.serverKey, DTLS_SERVER_CERT: other.cert },
          /the certificate's public key is not the private key's/,
        ],
        [{ DTLS_SERVER_CERT: pki.serverCert }, /DTLS_SERVER_CERT is set but DTLS_SERVER_KEY is not/],
        [{ DTLS_TRUSTED_CA: pki.serverKey }, /DTLS_TRUSTED_CA: no PEM certificate found/],
      ];
      for (const [env, message] of cases) {
        const r = spawnSync(process.execPath, [main], {
          env: { ...process.env, COAP_PORT: '0', COAPS_PORT: '0', HTTP_PORT: '-1', ...env },
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(message) });
        expect(r.stderr).not.toContain('BEGIN');
      }
    } finally {
      pki.remove();
    }
  });
});

describe('HTTP API', () => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    app = await startApp(
      loadConfig({ COAP_HOST: '127.0.0.1', COAP_PORT: '0', COAPS_PORT: '0', HTTP_PORT: '0' }),
      createLogger('silent'),
    );
    base = `http://127.0.0.1:${app.httpPort}`;
  });
  afterAll(() => app.stop());

  it('serves health, readiness and a registered device', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const dev = await ScriptedPeer.open();
    try {
      dev.send(
        {
          type: MessageType.CON,
          code: Method.POST,
          messageId: 1,
          token: Buffer.from([1]),
          options: [...pathOptions(['rd'], ['ep=http-1', 'lwm2m=1.1']), uintOption(Opt.CONTENT_FORMAT, 40)],
          payload: Buffer.from('</3/0>'),
        },
        { address: '127.0.0.1', port: app.coapPort },
      );
      await dev.waitFor((r) => r.msg.messageId === 1);
    } finally {
      await dev.close();
    }
    const list = (await (await fetch(`${base}/devices`)).json()) as {
      total: number;
      items: Array<{ endpoint: string }>;
    };
    expect(list.total).toBe(1);
    expect(list.items[0]?.endpoint).toBe('http-1');
    expect((await fetch(`${base}/devices/http-1`)).status).toBe(200);
    expect((await fetch(`${base}/devices/unknown`)).status).toBe(404);
    expect((await fetch(`${base}/debug/gc`, { method: 'POST' })).status).toBe(404);
  });

  it('exposes Prometheus metrics fed by the CoAP layer and server events', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^lwm2m_coap_datagrams_in_total [1-9]/m);
    expect(text).toMatch(/^lwm2m_registrations 1$/m);
    expect(text).toMatch(/^lwm2m_events_total\{type="registered"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).toMatch(/^lwm2m_coap_messages_in_total\{type="CON",code="0\.02"\} 1$/m);
    expect(text).toMatch(/^lwm2m_coap_messages_out_total\{type="ACK",code="2\.01"\} 1$/m);
  });
});
