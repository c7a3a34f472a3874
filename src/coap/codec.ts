/**
 * CoAP message codec (RFC 7252 §3). Decoding is strict: every violation of §3 is a
 * CoapFormatError carrying the header when it could be read, so that the message layer can
 * answer a malformed CON with RST (§4.2) and count the drop.
 */
import { CoapFormatError } from '../common/errors';
import { EMPTY_BUFFER, type CoapMessage, type CoapOption, type MessageType } from './message';

const PAYLOAD_MARKER = 0xff;

/**
 * A message with more options than the receiver accepts (a limit of ours, DESIGN invariant 5, not
 * a §3 violation): carries the code so that a CON request can be answered 4.00 instead of RST.
 */
export class CoapOptionLimitError extends CoapFormatError {
  constructor(
    readonly maxOptions: number,
    readonly messageCode: number,
    header: { type: number; messageId: number; token: Buffer },
  ) {
    super(`more than ${maxOptions} options`, header);
  }
}

/**
 * Result of decoding a datagram: a message, or `null` for messages that must be silently ignored.
 * More than `maxOptions` options is a CoapOptionLimitError, raised before the extra option is kept.
 */
export function decode(buf: Buffer, maxOptions = Number.POSITIVE_INFINITY): CoapMessage | null {
  if (buf.length < 4) throw new CoapFormatError(`datagram of ${buf.length} bytes is shorter than the CoAP header`);
  const b0 = buf[0] as number;
  // RFC 7252 §3: messages with unknown version numbers MUST be silently ignored.
  if (b0 >> 6 !== 1) return null;
  const type = ((b0 >> 4) & 0x03) as MessageType;
  const tkl = b0 & 0x0f;
  const code = buf[1] as number;
  const messageId = buf.readUInt16BE(2);
  const header = { type, messageId };
  // RFC 7252 §3: TKL 9-15 are reserved and MUST be processed as a message format error.
  if (tkl > 8) throw new CoapFormatError(`reserved token length ${tkl}`, header);
  // RFC 7252 §4.1: an Empty message has only the 4-byte header.
  if (code === 0 && (tkl !== 0 || buf.length !== 4))
    throw new CoapFormatError('Empty message with token, options or payload', header);
  const cls = code >> 5;
  if (cls === 1 || cls === 6 || cls === 7) throw new CoapFormatError(`reserved code class ${cls}`, header);
  if (buf.length < 4 + tkl) throw new CoapFormatError('datagram ends inside the token', header);
  const token = tkl === 0 ? EMPTY_BUFFER : buf.subarray(4, 4 + tkl);
  const withToken = { type, messageId, token };

  const options: CoapOption[] = [];
  let pos = 4 + tkl;
  let last = 0;
  let payload = EMPTY_BUFFER;
  while (pos < buf.length) {
    const byte = buf[pos++] as number;
    if (byte === PAYLOAD_MARKER) {
      // RFC 7252 §3: a marker followed by a zero-length payload MUST be a message format error.
      if (pos === buf.length) throw new CoapFormatError('payload marker followed by empty payload', withToken);
      payload = buf.subarray(pos);
      break;
    }
    if (options.length >= maxOptions) throw new CoapOptionLimitError(maxOptions, code, withToken);
    let delta = byte >> 4;
    let length = byte & 0x0f;
    // RFC 7252 §3.1: nibble 15 is reserved outside the payload marker.
    if (delta === 15 || length === 15) throw new CoapFormatError('reserved option nibble 15', withToken);
    if (delta === 13) {
      if (pos + 1 > buf.length) throw new CoapFormatError('truncated option delta', withToken);
      delta = (buf[pos++] as number) + 13;
    } else if (delta === 14) {
      if (pos + 2 > buf.length) throw new CoapFormatError('truncated option delta', withToken);
      delta = buf.readUInt16BE(pos) + 269;
      pos += 2;
    }
    if (length === 13) {
      if (pos + 1 > buf.length) throw new CoapFormatError('truncated option length', withToken);
      length = (buf[pos++] as number) + 13;
    } else if (length === 14) {
      if (pos + 2 > buf.length) throw new CoapFormatError('truncated option length', withToken);
      length = buf.readUInt16BE(pos) + 269;
      pos += 2;
    }
    if (pos + length > buf.length)
      throw new CoapFormatError('option value runs past the end of the datagram', withToken);
    last += delta;
    if (last > 0xffff) throw new CoapFormatError(`option number ${last} out of range`, withToken);
    options.push({ number: last, value: buf.subarray(pos, pos + length) });
    pos += length;
  }
  return { type, code, messageId, token, options, payload };
}

function extended(n: number): { nibble: number; extra: number; bytes: number } {
  if (n < 13) return { nibble: n, extra: 0, bytes: 0 };
  if (n < 269) return { nibble: 13, extra: n - 13, bytes: 1 };
  return { nibble: 14, extra: n - 269, bytes: 2 };
}

/**
 * An Empty message (code 0.00, no token, options or payload; RFC 7252 §4.1): the ACK or RST that
 * answers a CON by Message ID alone. Four bytes, built directly: the CON notification path sends
 * one per notification.
 */
export function emptyMessage(type: MessageType.ACK | MessageType.RST, messageId: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf[0] = 0x40 | (type << 4); // version 1
  buf[1] = 0;
  buf.writeUInt16BE(messageId, 2);
  return buf;
}

/** Encodes a message; options need not be sorted (a stable sort by number is applied). */
export function encode(msg: CoapMessage): Buffer {
  const tkl = msg.token.length;
  if (tkl > 8) throw new CoapFormatError(`token of ${tkl} bytes is longer than 8`);
  const opts = isSorted(msg.options) ? msg.options : [...msg.options].sort((a, b) => a.number - b.number);
  let size = 4 + tkl;
  let last = 0;
  for (const o of opts) {
    size += 1 + extended(o.number - last).bytes + extended(o.value.length).bytes + o.value.length;
    last = o.number;
  }
  if (msg.payload.length > 0) size += 1 + msg.payload.length;

  const out = Buffer.allocUnsafe(size);
  out[0] = 0x40 | (msg.type << 4) | tkl;
  out[1] = msg.code;
  out.writeUInt16BE(msg.messageId & 0xffff, 2);
  let pos = 4;
  if (tkl > 0) pos += msg.token.copy(out, pos);
  last = 0;
  for (const o of opts) {
    const d = extended(o.number - last);
    const l = extended(o.value.length);
    out[pos++] = (d.nibble << 4) | l.nibble;
    if (d.bytes === 1) out[pos++] = d.extra;
    else if (d.bytes === 2) pos = out.writeUInt16BE(d.extra, pos);
    if (l.bytes === 1) out[pos++] = l.extra;
    else if (l.bytes === 2) pos = out.writeUInt16BE(l.extra, pos);
    pos += o.value.copy(out, pos);
    last = o.number;
  }
  if (msg.payload.length > 0) {
    out[pos++] = PAYLOAD_MARKER;
    msg.payload.copy(out, pos);
  }
  return out;
}

function isSorted(opts: readonly CoapOption[]): boolean {
  for (let i = 1; i < opts.length; i++)
    if ((opts[i] as CoapOption).number < (opts[i - 1] as CoapOption).number) return false;
  return true;
}
