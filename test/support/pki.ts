/**
 * A throwaway PKI for DTLS tests, made with the openssl command line (Debian openssl): a CA, a
 * server certificate, client certificates by CN (signed by the CA, or self-signed), and raw EC
 * key pairs. Every key is EC P-256 unless asked otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireOnPath } from './test-deps';

export interface Pki {
  readonly dir: string;
  /** PEM file paths. */
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  /** The server key's public half (SubjectPublicKeyInfo PEM): what an RPK client pins. */
  readonly serverPublicKey: string;
  /** A client key and certificate with this CN; `selfSigned` makes one no CA vouches for. */
  client(cn: string, o?: { selfSigned?: boolean; curve?: string }): { key: string; cert: string };
  /** An EC key pair: the private key PEM path, the public key PEM text, and both in one PEM file (libcoap's -M). */
  rawKey(name: string): { key: string; publicPem: string; combined: string };
  read(path: string): string;
  remove(): void;
}

export function makePki(): Pki {
  const openssl = requireOnPath('openssl', 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'lwm2m-pki-'));
  const run = (...args: string[]): string =>
    execFileSync(openssl, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const key = (name: string, curve = 'prime256v1'): string => {
    run('ecparam', '-name', curve, '-genkey', '-noout', '-out', `${name}.key`);
    // PKCS#8, which every consumer here reads (Californium, Node, OpenSSL, GnuTLS).
    run('pkcs8', '-topk8', '-nocrypt', '-in', `${name}.key`, '-out', `${name}.p8.key`);
    return join(dir, `${name}.p8.key`);
  };
  key('ca');
  run(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.p8.key',
    '-days',
    '30',
    '-subj',
    '/CN=lwm2m-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-out',
    'ca.crt',
  );
  const signed = (name: string, cn: string, selfSigned: boolean): string => {
    run('req', '-new', '-key', `${name}.p8.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    if (selfSigned)
      run('x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.p8.key`, '-days', '30', '-out', `${name}.crt`);
    else
      run(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.p8.key',
        '-CAcreateserial',
        '-days',
        '30',
        '-out',
        `${name}.crt`,
      );
    return join(dir, `${name}.crt`);
  };
  const serverKey = key('server');
  const serverCert = signed('server', 'lwm2m-bridge', false);
  const serverPublicKey = join(dir, 'server.pub.pem');
  writeFileSync(serverPublicKey, run('pkey', '-in', serverKey, '-pubout'));
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverKey,
    serverCert,
    serverPublicKey,
    client(cn, o = {}) {
      const name = `client-${cn}${o.selfSigned ? '-self' : ''}${o.curve ? `-${o.curve}` : ''}`;
      const k = key(name, o.curve);
      return { key: k, cert: signed(name, cn, o.selfSigned === true) };
    },
    rawKey(name) {
      const k = key(`raw-${name}`);
      const publicPem = run('pkey', '-in', k, '-pubout');
      const combined = join(dir, `raw-${name}.pem`);
      writeFileSync(combined, `${publicPem}${readFileSync(k, 'utf8')}`);
      return { key: k, publicPem, combined };
    },
    read: (path) => readFileSync(path, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
