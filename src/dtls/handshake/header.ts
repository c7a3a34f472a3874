/**
 * The DTLS handshake message header (RFC 6347 §4.2.2):
 *
 *   struct {
 *     HandshakeType msg_type;     uint24 length;
 *     uint16 message_seq;         uint24 fragment_offset;
 *     uint24 fragment_length;     body[fragment_length];
 *   } Handshake;
 *
 * The transcript (Finished, extended master secret) hashes each message as if sent in one
 * fragment (§4.2.6): header with offset 0 and fragment_length = length, then the whole body.
 */
import { DtlsDecodeError } from '../../common/errors';

export const HandshakeType = {
  HELLO_REQUEST: 0,
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  HELLO_VERIFY_REQUEST: 3,
  CERTIFICATE: 11,
  SERVER_KEY_EXCHANGE: 12,
  CERTIFICATE_REQUEST: 13,
  SERVER_HELLO_DONE: 14,
  CERTIFICATE_VERIFY: 15,
  CLIENT_KEY_EXCHANGE: 16,
  FINISHED: 20,
} as const;

export const HANDSHAKE_HEADER_LENGTH = 12;
/** Largest handshake message body accepted (a certificate chain fits well within it). */
export const MAX_HANDSHAKE_MESSAGE = 16 * 1024;

export interface HandshakeFragment {
  readonly type: number;
  readonly length: number;
  readonly messageSeq: number;
  readonly offset: number;
  readonly body: Buffer;
}

/** Fragments of one record's fragment (a record may carry several handshake fragments). */
export function parseHandshakeFragments(data: Buffer): HandshakeFragment[] {
  const out: HandshakeFragment[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data.length - pos < HANDSHAKE_HEADER_LENGTH)
      throw new DtlsDecodeError(`handshake header truncated: ${data.length - pos} of 12 bytes`);
    const type = data[pos] as number;
    const length = data.readUIntBE(pos + 1, 3);
    const messageSeq = data.readUInt16BE(pos + 4);
    const offset = data.readUIntBE(pos + 6, 3);
    const fragmentLength = data.readUIntBE(pos + 9, 3);
    if (length > MAX_HANDSHAKE_MESSAGE)
      throw new DtlsDecodeError(`handshake message of ${length} bytes, more than ${MAX_HANDSHAKE_MESSAGE}`);
    if (offset + fragmentLength > length)
      throw new DtlsDecodeError(`handshake fragment ${offset}+${fragmentLength} beyond its message's ${length} bytes`);
    const end = pos + HANDSHAKE_HEADER_LENGTH + fragmentLength;
    if (end > data.length)
      throw new DtlsDecodeError(
        `handshake fragment truncated: ${data.length - pos - HANDSHAKE_HEADER_LENGTH} of ${fragmentLength} bytes`,
      );
    out.push({ type, length, messageSeq, offset, body: data.subarray(pos + HANDSHAKE_HEADER_LENGTH, end) });
    pos = end;
  }
  return out;
}

export function handshakeHeader(
  type: number,
  length: number,
  messageSeq: number,
  offset: number,
  fragmentLength: number,
): Buffer {
  const h = Buffer.allocUnsafe(HANDSHAKE_HEADER_LENGTH);
  h[0] = type;
  h.writeUIntBE(length, 1, 3);
  h.writeUInt16BE(messageSeq, 4);
  h.writeUIntBE(offset, 6, 3);
  h.writeUIntBE(fragmentLength, 9, 3);
  return h;
}

/** A whole message as it enters the transcript (and as sent when it fits one record). */
export function encodeHandshake(type: number, messageSeq: number, body: Buffer): Buffer {
  return Buffer.concat([handshakeHeader(type, body.length, messageSeq, 0, body.length), body]);
}

/** A message split into fragments of at most `maxBody` bytes each, headers included (§4.2.3). */
export function fragmentHandshake(type: number, messageSeq: number, body: Buffer, maxBody: number): Buffer[] {
  if (body.length <= maxBody) return [encodeHandshake(type, messageSeq, body)];
  const out: Buffer[] = [];
  for (let offset = 0; offset < body.length; offset += maxBody) {
    const part = body.subarray(offset, Math.min(body.length, offset + maxBody));
    out.push(Buffer.concat([handshakeHeader(type, body.length, messageSeq, offset, part.length), part]));
  }
  return out;
}
