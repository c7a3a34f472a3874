/**
 * DTLS 1.2 record layer framing (RFC 6347 §4.1), and the connection-ID record (RFC 9146 §4):
 *
 *   struct {                                  struct {
 *     ContentType type;          // 1           ContentType outer_type = tls12_cid (25);
 *     ProtocolVersion version;   // {254,253}   ProtocolVersion version;
 *     uint16 epoch;                             uint16 epoch;
 *     uint48 sequence_number;                   uint48 sequence_number;
 *     uint16 length;                            opaque cid[cid_length];   // length known by the receiver
 *     opaque fragment[length];                  uint16 length;
 *   } DTLSPlaintext;                            opaque enc_content[length];
 *                                             } DTLSCiphertext;
 *
 * A datagram can carry several records (§4.1.1); a record never spans datagrams.
 */
import { DtlsDecodeError } from '../common/errors';

export const ContentType = {
  CHANGE_CIPHER_SPEC: 20,
  ALERT: 21,
  HANDSHAKE: 22,
  APPLICATION_DATA: 23,
  TLS12_CID: 25,
} as const;

/** DTLS 1.2 on the wire ({254, 253}), and DTLS 1.0 ({254, 255}) as clients may use in ClientHello records. */
export const DTLS_1_2 = 0xfefd;
export const DTLS_1_0 = 0xfeff;

export const RECORD_HEADER_LENGTH = 13;
/** Largest record fragment accepted: 2^14 plus the expansion allowed for ciphertext (RFC 6347 §4.1, RFC 5246 §6.2.3). */
export const MAX_CIPHERTEXT_LENGTH = 16384 + 2048;

export interface DtlsRecord {
  readonly type: number;
  readonly version: number;
  readonly epoch: number;
  readonly sequence: number;
  /** Set on a tls12_cid record: the connection ID it carries. */
  readonly cid?: Buffer;
  readonly fragment: Buffer;
  /** The record's own bytes (header included): for a cheap duplicate or replay check. */
  readonly header: Buffer;
}

/**
 * Splits a datagram into records. `cidLength` is the length of the connection IDs this server
 * issues (0 when it issues none): a tls12_cid record cannot be framed without it. Throws
 * DtlsDecodeError on the first record that does not frame; records before it are returned with it.
 */
export function parseRecords(datagram: Buffer, cidLength: number): { records: DtlsRecord[]; error?: DtlsDecodeError } {
  const records: DtlsRecord[] = [];
  let pos = 0;
  while (pos < datagram.length) {
    const left = datagram.length - pos;
    const type = datagram[pos] as number;
    const withCid = type === ContentType.TLS12_CID;
    if (withCid && cidLength === 0)
      return {
        records,
        error: new DtlsDecodeError('a connection-ID record (type 25) but no connection ID was issued'),
      };
    const headerLength = RECORD_HEADER_LENGTH + (withCid ? cidLength : 0);
    if (left < headerLength)
      return { records, error: new DtlsDecodeError(`record header truncated: ${left} of ${headerLength} bytes`) };
    const version = datagram.readUInt16BE(pos + 1);
    if (version !== DTLS_1_2 && version !== DTLS_1_0)
      return { records, error: new DtlsDecodeError(`record version 0x${version.toString(16)} is not DTLS 1.0 or 1.2`) };
    const epoch = datagram.readUInt16BE(pos + 3);
    const sequence = datagram.readUIntBE(pos + 5, 6);
    const cid = withCid ? datagram.subarray(pos + 11, pos + 11 + cidLength) : undefined;
    const length = datagram.readUInt16BE(pos + headerLength - 2);
    if (length > MAX_CIPHERTEXT_LENGTH)
      return { records, error: new DtlsDecodeError(`record of ${length} bytes, more than ${MAX_CIPHERTEXT_LENGTH}`) };
    if (left < headerLength + length)
      return { records, error: new DtlsDecodeError(`record truncated: ${left - headerLength} of ${length} bytes`) };
    records.push({
      type,
      version,
      epoch,
      sequence,
      ...(cid !== undefined ? { cid } : {}),
      fragment: datagram.subarray(pos + headerLength, pos + headerLength + length),
      header: datagram.subarray(pos, pos + headerLength),
    });
    pos += headerLength + length;
  }
  return { records };
}

/** One record's bytes: header (with the connection ID when given) and fragment. */
export function encodeRecord(
  type: number,
  epoch: number,
  sequence: number,
  fragment: Buffer,
  cid?: Buffer,
  version = DTLS_1_2,
): Buffer {
  const headerLength = RECORD_HEADER_LENGTH + (cid?.length ?? 0);
  const out = Buffer.allocUnsafe(headerLength + fragment.length);
  writeRecordHeader(out, type, epoch, sequence, fragment.length, cid, version);
  fragment.copy(out, headerLength);
  return out;
}

/** A record header at the start of `out`, for a fragment of `length` bytes to follow it. */
export function writeRecordHeader(
  out: Buffer,
  type: number,
  epoch: number,
  sequence: number,
  length: number,
  cid?: Buffer,
  version = DTLS_1_2,
): void {
  const cidLength = cid?.length ?? 0;
  out[0] = cid !== undefined ? ContentType.TLS12_CID : type;
  out.writeUInt16BE(version, 1);
  out.writeUInt16BE(epoch, 3);
  out.writeUIntBE(sequence, 5, 6);
  if (cid !== undefined) cid.copy(out, 11);
  out.writeUInt16BE(length, 11 + cidLength);
}
