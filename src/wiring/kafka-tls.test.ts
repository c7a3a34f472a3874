/**
 * Kafka TLS settings from configuration: PEM text or file paths, errors naming the variable, and
 * options that really carry a mutual-TLS handshake (a node:tls server standing in for a broker).
 */
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { makePki, type Pki } from '../../test/support/pki';
import { ConfigError } from '../common/errors';
import { kafkaTls } from './kafka-tls';

const none = { KAFKA_SSL: false, KAFKA_SSL_CA: '', KAFKA_SSL_CERT: '', KAFKA_SSL_KEY: '' };

describe('kafkaTls', () => {
  let pki: Pki;
  beforeAll(() => (pki = makePki()));
  afterAll(() => pki.remove());

  it('is off by default and the system trust store with KAFKA_SSL alone', () => {
    expect(kafkaTls(none)).toBeUndefined();
    expect(kafkaTls({ ...none, KAFKA_SSL: true })).toBe(true);
  });

  it('reads PEM files and PEM text alike', () => {
    const fromFiles = kafkaTls({ ...none, KAFKA_SSL_CA: pki.caCert });
    expect(fromFiles).toEqual({ ca: pki.read(pki.caCert) });
    expect(kafkaTls({ ...none, KAFKA_SSL_CA: pki.read(pki.caCert) })).toEqual(fromFiles);
  });

  it.each([
    [{ KAFKA_SSL_CERT: 'x' }, /KAFKA_SSL_CERT is set but KAFKA_SSL_KEY is not/],
    [{ KAFKA_SSL_KEY: 'x' }, /KAFKA_SSL_KEY is set but KAFKA_SSL_CERT is not/],
    [{ KAFKA_SSL_CA: '/nonexistent/ca.pem' }, /^KAFKA_SSL_CA: cannot read \/nonexistent\/ca.pem/],
    [
      { KAFKA_SSL_CA: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----' },
      /^KAFKA_SSL_CA: not a PEM certificate/,
    ],
  ])('rejects %p naming the variable', (bad, message) => {
    expect(() => kafkaTls({ ...none, ...bad })).toThrow(ConfigError);
    expect(() => kafkaTls({ ...none, ...bad })).toThrow(message);
  });

  it('rejects a key that is not a private key', () => {
    const client = pki.client('bridge');
    expect(() => kafkaTls({ ...none, KAFKA_SSL_CERT: client.cert, KAFKA_SSL_KEY: client.cert })).toThrow(
      /^KAFKA_SSL_KEY: not a PEM private key/,
    );
  });

  it('gives options that complete a mutual-TLS handshake with a server trusting the same CA', async () => {
    const client = pki.client('bridge');
    const tlsOptions = kafkaTls({
      ...none,
      KAFKA_SSL_CA: pki.caCert,
      KAFKA_SSL_CERT: client.cert,
      KAFKA_SSL_KEY: client.key,
    });
    if (typeof tlsOptions !== 'object') throw new ConfigError('expected PEM options');
    const server = createServer({
      key: pki.read(pki.serverKey),
      cert: pki.read(pki.serverCert),
      ca: pki.read(pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peerCn = new Promise<string>((resolve) =>
      server.on('secureConnection', (s: TLSSocket) => resolve(String(s.getPeerCertificate().subject.CN))),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = connect({
      ...tlsOptions,
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      servername: 'lwm2m-bridge',
    });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(socket.authorized).toBe(true);
    expect(await peerCn).toBe('bridge');
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
