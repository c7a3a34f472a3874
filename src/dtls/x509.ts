/**
 * Verification of a client's X.509 chain (RFC 5280 path validation, the parts a device
 * certificate needs): each certificate issued and signed by the next, the last one issued by (or
 * being) a configured trust anchor, every certificate within its validity, issuers marked as CA,
 * and the leaf's subject CN, which names the device (LwM2M-Core 1.2 §7.1.9: the endpoint).
 */
import { X509Certificate } from 'node:crypto';
import { AlertDescription } from './alert';
import { errorMessage } from '../common/error-message';

export type ChainVerdict =
  | { readonly ok: true; readonly commonName: string; readonly leaf: X509Certificate }
  | { readonly ok: false; readonly alert: number; readonly reason: string };

const fail = (alert: number, reason: string): ChainVerdict => ({ ok: false, alert, reason });

export function commonNameOf(cert: X509Certificate): string | undefined {
  for (const line of cert.subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

export function verifyClientChain(
  chainDer: readonly Buffer[],
  anchors: readonly X509Certificate[],
  now: Date,
): ChainVerdict {
  if (chainDer.length === 0) return fail(AlertDescription.HANDSHAKE_FAILURE, 'the client sent no certificate');
  let chain: X509Certificate[];
  try {
    chain = chainDer.map((der) => new X509Certificate(der));
  } catch (err) {
    return fail(AlertDescription.BAD_CERTIFICATE, `a client certificate cannot be parsed: ${errorMessage(err)}`);
  }
  const leaf = chain[0] as X509Certificate;
  for (const c of chain) {
    if (now < new Date(c.validFrom) || now > new Date(c.validTo))
      return fail(
        AlertDescription.CERTIFICATE_EXPIRED,
        `certificate "${c.subject.replace(/\n/g, ', ')}" is valid from ${c.validFrom} to ${c.validTo}`,
      );
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!issuer.ca || !child.checkIssued(issuer) || !child.verify(issuer.publicKey))
      return fail(
        AlertDescription.BAD_CERTIFICATE,
        `certificate "${child.subject.replace(/\n/g, ', ')}" is not issued by the next one in the chain`,
      );
  }
  const top = chain[chain.length - 1] as X509Certificate;
  const anchored = anchors.some(
    (a) =>
      a.fingerprint256 === top.fingerprint256 ||
      (a.ca &&
        top.checkIssued(a) &&
        top.verify(a.publicKey) &&
        now >= new Date(a.validFrom) &&
        now <= new Date(a.validTo)),
  );
  if (!anchored)
    return fail(
      AlertDescription.UNKNOWN_CA,
      `certificate "${top.subject.replace(/\n/g, ', ')}" is not issued by a trusted CA`,
    );
  if (leaf.publicKey.asymmetricKeyType !== 'ec')
    return fail(AlertDescription.BAD_CERTIFICATE, "the client certificate's key is not an EC key");
  const cn = commonNameOf(leaf);
  if (cn === undefined || cn === '')
    return fail(AlertDescription.BAD_CERTIFICATE, 'the client certificate has no subject CN');
  return { ok: true, commonName: cn, leaf };
}
