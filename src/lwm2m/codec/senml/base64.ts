/**
 * SenML Data Value ("vd") text form: base64 with the URL-safe alphabet, padding omitted
 * (RFC 8428 §4.3, §5; RFC 4648 §5). Decoding also accepts the standard alphabet and padding,
 * which some clients send, but rejects anything else (Buffer.from would silently skip it).
 */
import { CodecError } from '../../../common/errors';

const BASE64 = /^[A-Za-z0-9_\-+/]*={0,2}$/;

export function decodeBase64Url(text: string, where: string): Buffer {
  const unpadded = text.endsWith('=') ? text.replace(/=+$/, '') : text;
  if (!BASE64.test(text) || unpadded.length % 4 === 1) {
    throw new CodecError('SenML "vd" is not valid base64url data', where);
  }
  return Buffer.from(unpadded, 'base64url');
}

export function encodeBase64Url(data: Buffer): string {
  return data.toString('base64url');
}
