/**
 * Hello extensions (RFC 5246 §7.4.1.4) this server reads and may answer. A server answers only
 * extensions the client offered (RFC 5246 §7.4.1.4; Californium aborts on any other).
 */
import { WireReader, WireWriter } from '../wire';

export const ExtensionType = {
  SERVER_NAME: 0,
  MAX_FRAGMENT_LENGTH: 1, // RFC 6066 §4
  SUPPORTED_GROUPS: 10, // RFC 8422 §5.1.1
  EC_POINT_FORMATS: 11, // RFC 8422 §5.1.2
  SIGNATURE_ALGORITHMS: 13, // RFC 5246 §7.4.1.4.1
  CLIENT_CERTIFICATE_TYPE: 19, // RFC 7250 §3
  SERVER_CERTIFICATE_TYPE: 20,
  EXTENDED_MASTER_SECRET: 23, // RFC 7627 §5.1
  CONNECTION_ID: 54, // RFC 9146 §3
  RENEGOTIATION_INFO: 0xff01, // RFC 5746 §3.2
} as const;

/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV in the cipher suite list stands for an empty renegotiation_info (RFC 5746 §3.3). */
export const RENEGOTIATION_SCSV = 0x00ff;
export const NAMED_GROUP_SECP256R1 = 23;
export const SIGNATURE_ECDSA_SECP256R1_SHA256 = 0x0403;
export const CertificateType = { X509: 0, RAW_PUBLIC_KEY: 2 } as const;

export function parseExtensions(r: WireReader): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (r.remaining === 0) return out;
  const body = new WireReader(r.vector(2, 'extensions'));
  while (body.remaining > 0) {
    const type = body.u16('extension type');
    const data = body.vector(2, `extension ${type}`);
    out.set(type, data);
  }
  return out;
}

export function encodeExtensions(exts: ReadonlyArray<readonly [number, Buffer]>): Buffer {
  if (exts.length === 0) return Buffer.alloc(0);
  const w = new WireWriter();
  for (const [type, data] of exts) w.u16(type).vector(2, data);
  return new WireWriter().vector(2, w.toBuffer()).toBuffer();
}

/** A list of uint16 values with a 2-byte length (supported_groups, signature_algorithms). */
export function u16List(data: Buffer | undefined, what: string): number[] {
  if (data === undefined) return [];
  const r = new WireReader(data);
  const list = new WireReader(r.vector(2, what));
  const out: number[] = [];
  while (list.remaining >= 2) out.push(list.u16(what));
  return out;
}

/** A list of uint8 values with a 1-byte length (ec_point_formats, certificate types). */
export function u8List(data: Buffer | undefined, what: string): number[] {
  if (data === undefined) return [];
  const list = new WireReader(new WireReader(data).vector(1, what));
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u8(what));
  return out;
}

/** max_fragment_length's code → bytes (RFC 6066 §4); undefined for an unknown code. */
export function maxFragmentBytes(data: Buffer | undefined): number | undefined {
  if (data?.length !== 1) return undefined;
  const code = data[0] as number;
  return code >= 1 && code <= 4 ? 2 ** (8 + code) : undefined;
}
