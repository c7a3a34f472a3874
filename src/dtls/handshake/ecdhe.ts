/**
 * The messages of the ECDHE_ECDSA key exchange (RFC 8422 §5.4-§5.8, RFC 5246 §7.4.4, §7.4.8):
 *
 *   ServerKeyExchange:  ECCurveType curve_type = named_curve (3); NamedCurve namedcurve;
 *                       opaque point<1..2^8-1>;  digitally-signed (SignatureAndHashAlgorithm,
 *                       opaque signature<0..2^16-1>) over client_random ‖ server_random ‖ params
 *   CertificateRequest: ClientCertificateType certificate_types<1..2^8-1> (ecdsa_sign = 64);
 *                       SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
 *                       DistinguishedName certificate_authorities<0..2^16-1>
 *   ClientKeyExchange:  opaque point<1..2^8-1>   (the client's ephemeral public key)
 *   CertificateVerify:  SignatureAndHashAlgorithm; opaque signature<0..2^16-1>, over every
 *                       handshake message before it
 */
import { createECDH, sign, verify, type ECDH, type KeyObject } from 'node:crypto';
import { DtlsHandshakeError } from '../../common/errors';
import { AlertDescription } from '../alert';
import { WireReader, WireWriter } from '../wire';
import { NAMED_GROUP_SECP256R1, SIGNATURE_ECDSA_SECP256R1_SHA256 } from './extensions';

export const NAMED_GROUP_SECP384R1 = 24;
const CURVES = new Map<number, string>([
  [NAMED_GROUP_SECP256R1, 'prime256v1'],
  [NAMED_GROUP_SECP384R1, 'secp384r1'],
]);
/** ECDSA with SHA-256, -384, -512 (RFC 5246 §7.4.1.4.1: hash, then signature = 3). */
const ECDSA_HASHES = new Map<number, string>([
  [0x0403, 'sha256'],
  [0x0503, 'sha384'],
  [0x0603, 'sha512'],
]);
const ECDSA_SIGN = 64;

/** The group to use among the client's supported_groups (P-256 first, then P-384); none → P-256. */
export function chooseGroup(offered: readonly number[]): number | undefined {
  if (offered.length === 0) return NAMED_GROUP_SECP256R1;
  return [NAMED_GROUP_SECP256R1, NAMED_GROUP_SECP384R1].find((g) => offered.includes(g));
}

export function ephemeralKey(group: number): ECDH {
  const ecdh = createECDH(CURVES.get(group) as string);
  ecdh.generateKeys();
  return ecdh;
}

export function serverKeyExchange(
  group: number,
  ecdh: ECDH,
  clientRandom: Buffer,
  serverRandom: Buffer,
  key: KeyObject,
): Buffer {
  const params = new WireWriter().u8(3).u16(group).vector(1, ecdh.getPublicKey()).toBuffer();
  const signature = sign('sha256', Buffer.concat([clientRandom, serverRandom, params]), key);
  return new WireWriter().bytes(params).u16(SIGNATURE_ECDSA_SECP256R1_SHA256).vector(2, signature).toBuffer();
}

export function certificateRequest(): Buffer {
  const algorithms = new WireWriter();
  for (const a of ECDSA_HASHES.keys()) algorithms.u16(a);
  return new WireWriter()
    .vector(1, Buffer.from([ECDSA_SIGN]))
    .vector(2, algorithms.toBuffer())
    .vector(2, Buffer.alloc(0))
    .toBuffer();
}

/** The premaster secret from the client's point (RFC 8422 §5.10: the x coordinate). */
export function ecdhePreMaster(ecdh: ECDH, clientKeyExchange: Buffer): Buffer {
  const point = new WireReader(clientKeyExchange).vector(1, 'ecdh_Yc');
  try {
    return ecdh.computeSecret(point);
  } catch {
    throw new DtlsHandshakeError(
      AlertDescription.ILLEGAL_PARAMETER,
      "the client's ECDH public key is not a point of the curve",
    );
  }
}

/** Checks a CertificateVerify over `signed` (the handshake messages before it) with the client's key. */
export function checkCertificateVerify(body: Buffer, signed: Buffer, key: KeyObject): void {
  const r = new WireReader(body);
  const algorithm = r.u16('signature_algorithm');
  const signature = r.vector(2, 'signature');
  const hash = ECDSA_HASHES.get(algorithm);
  if (hash === undefined)
    throw new DtlsHandshakeError(
      AlertDescription.ILLEGAL_PARAMETER,
      `CertificateVerify with signature algorithm 0x${algorithm.toString(16)}, not ECDSA with SHA-2`,
    );
  let ok: boolean;
  try {
    ok = verify(hash, signed, key, signature);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new DtlsHandshakeError(
      AlertDescription.DECRYPT_ERROR,
      "the client's CertificateVerify signature does not verify",
    );
}
