/**
 * The server's own credentials for the ECDHE_ECDSA suites: an EC P-256 private key, and either an
 * X.509 chain whose leaf carries that key, or none (then only raw public keys, RFC 7250), plus the
 * trust anchors that client certificates are verified against. A key or certificate that cannot
 * be used is refused at start-up with the reason.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigError } from '../common/errors';
import { errorMessage } from '../common/error-message';

export interface ServerIdentity {
  readonly privateKey: KeyObject;
  /** SubjectPublicKeyInfo DER of the key (the RawPublicKey certificate). */
  readonly publicKeyDer: Buffer;
  /** DER certificates, leaf first; empty: raw public key only. */
  readonly chain: readonly Buffer[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

export function certificatesFromPem(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${what}: no PEM certificate found`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new ConfigError(`${what}: certificate ${i + 1} cannot be parsed (${errorMessage(err)})`);
    }
  });
}

export function loadServerIdentity(
  keyPem: string,
  certPem: string | undefined,
  what = 'DTLS server identity',
): ServerIdentity {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new ConfigError(`${what}: the private key cannot be read (${errorMessage(err)})`);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ConfigError(
      `${what}: the private key must be an EC key on P-256 (secp256r1), not ${privateKey.asymmetricKeyType ?? 'unknown'} ${privateKey.asymmetricKeyDetails?.namedCurve ?? ''}`.trim(),
    );
  }
  const publicKeyDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  if (certPem === undefined) return { privateKey, publicKeyDer, chain: [] };
  const chain = certificatesFromPem(certPem, `${what} certificate`);
  const leafKey = (chain[0] as X509Certificate).publicKey.export({ format: 'der', type: 'spki' });
  if (!leafKey.equals(publicKeyDer))
    throw new ConfigError(`${what}: the certificate's public key is not the private key's`);
  return { privateKey, publicKeyDer, chain: chain.map((c) => c.raw) };
}
