/**
 * Certificate (RFC 5246 §7.4.2, RFC 7250 §3): an X.509 chain, leaf first,
 *   opaque ASN.1Cert<1..2^24-1>;  struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 * or, with the RawPublicKey certificate type, one SubjectPublicKeyInfo:
 *   struct { opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>; } Certificate;
 */
import { WireReader, WireWriter } from '../wire';

export function encodeCertificateChain(chain: readonly Buffer[]): Buffer {
  const list = new WireWriter();
  for (const der of chain) list.vector(3, der);
  return new WireWriter().vector(3, list.toBuffer()).toBuffer();
}

export function encodeRawPublicKey(spki: Buffer): Buffer {
  return new WireWriter().vector(3, spki).toBuffer();
}

/** The DER certificates of a Certificate message, leaf first (empty when the client has none). */
export function parseCertificateChain(body: Buffer): Buffer[] {
  const r = new WireReader(body);
  const list = new WireReader(r.vector(3, 'certificate_list'));
  const out: Buffer[] = [];
  while (list.remaining > 0) out.push(Buffer.from(list.vector(3, 'ASN.1Cert')));
  return out;
}

/** The SubjectPublicKeyInfo of a RawPublicKey Certificate message (empty: none). */
export function parseRawPublicKey(body: Buffer): Buffer {
  return Buffer.from(new WireReader(body).vector(3, 'ASN.1_subjectPublicKeyInfo'));
}
