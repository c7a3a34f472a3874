/**
 * The observed device's side of RFC 7641: the answer to the bridge's GET Observe=0 (a
 * piggybacked 2.05 Content with the Observe option, echoing the token) and the CON notifications
 * that follow (2.05, the observation's token, an increasing 24-bit Observe sequence number).
 *
 * A notification is written in place into the device's own buffer: no allocation per message.
 * The value of /3303/0/5700 is the wall-clock send time in ms since the run's epoch, so that the
 * Kafka side can compute (append time - send time) from the record alone.
 *
 *   byte 0      0x40 | TKL (CON)        4 + TKL   0x63 + 3 bytes: Observe (option 6), always 3 bytes
 *   byte 1      0x45 (2.05)                       0x61 + 1 byte: Content-Format (12) 110 or 112
 *   bytes 2-3   Message ID                        0xFF, payload
 */
import { decode, encode } from '../src/coap/codec';
import { Code, EMPTY_BUFFER, MessageType, Method, Opt, type CoapMessage } from '../src/coap/message';
import { observeValue, uintOption } from '../src/coap/options';
import type { E2eFormat } from './e2e-protocol';

export const SENML_JSON = 110;
export const SENML_CBOR = 112;
/** Object links announcing the format (LwM2M-Core 1.2 §6.2.1: ct on the root link), so that Accept asks for it. */
export const linksFor = (format: E2eFormat): string =>
  `</>;rt="oma.lwm2m";ct=${contentFormatOf(format)},</1/0>,</3/0>,</3303/0>`;
export const contentFormatOf = (format: E2eFormat): number => (format === 'senml-json' ? SENML_JSON : SENML_CBOR);

const JSON_HEAD = '[{"bn":"/3303/0/","n":"5700","v":';
const JSON_TAIL = '}]';
/** RFC 8428 §6: [{-2: "/3303/0/", 0: "5700", 2: float64}], the float64 in the last 8 bytes. */
const CBOR_TEMPLATE = Buffer.concat([
  Buffer.from([0x81, 0xa3, 0x21, 0x68]),
  Buffer.from('/3303/0/'),
  Buffer.from([0x00, 0x64]),
  Buffer.from('5700'),
  Buffer.from([0x02, 0xfb]),
  Buffer.alloc(8),
]);
export const MAX_NOTIFICATION_BYTES = 4 + 8 + 4 + 2 + 1 + 64;

/** The payload for `value` in `format` (observe responses: allocation does not matter there). */
export function payloadOf(format: E2eFormat, value: number): Buffer {
  if (format === 'senml-json') return Buffer.from(`${JSON_HEAD}${value}${JSON_TAIL}`, 'latin1');
  const b = Buffer.from(CBOR_TEMPLATE);
  b.writeDoubleBE(value, b.length - 8);
  return b;
}

/** Writes a CON 2.05 notification into `into`; returns its length. */
export function writeNotification(
  into: Buffer,
  mid: number,
  token: Buffer,
  seq: number,
  format: E2eFormat,
  value: number,
): number {
  const tkl = token.length;
  into[0] = 0x40 | tkl;
  into[1] = Code.CONTENT;
  into[2] = mid >> 8;
  into[3] = mid & 0xff;
  token.copy(into, 4);
  let p = 4 + tkl;
  into[p++] = 0x63;
  into[p++] = (seq >> 16) & 0xff;
  into[p++] = (seq >> 8) & 0xff;
  into[p++] = seq & 0xff;
  into[p++] = 0x61;
  into[p++] = contentFormatOf(format);
  into[p++] = 0xff;
  if (format === 'senml-json') return p + into.write(`${JSON_HEAD}${value}${JSON_TAIL}`, p, 'latin1');
  CBOR_TEMPLATE.copy(into, p);
  p += CBOR_TEMPLATE.length;
  into.writeDoubleBE(value, p - 8);
  return p;
}

/** True for a datagram carrying a request (code class 0, code not Empty). */
export function isRequest(buf: Buffer): boolean {
  return buf.length >= 4 && (buf[0] as number) >> 6 === 1 && (buf[1] as number) >= 1 && (buf[1] as number) <= 31;
}

export type RequestKind =
  | { readonly kind: 'observe'; readonly msg: CoapMessage }
  | { readonly kind: 'cancel'; readonly msg: CoapMessage }
  | { readonly kind: 'other'; readonly msg: CoapMessage };

export function classifyRequest(buf: Buffer): RequestKind | undefined {
  const msg = decode(buf);
  if (msg === null) return undefined;
  const obs = observeValue(msg);
  if (msg.code === Method.GET && obs === 0) return { kind: 'observe', msg };
  if (msg.code === Method.GET && obs === 1) return { kind: 'cancel', msg };
  return { kind: 'other', msg };
}

/** Piggybacked answer (ACK) to a request: 2.05 with Observe `seq` and a payload, or another code without. */
export function answer(
  req: CoapMessage,
  code: number,
  observe?: { readonly seq: number; readonly format: E2eFormat; readonly value: number },
): Buffer {
  const type = req.type === MessageType.CON ? MessageType.ACK : MessageType.NON;
  if (observe === undefined)
    return encode({ type, code, messageId: req.messageId, token: req.token, options: [], payload: EMPTY_BUFFER });
  return encode({
    type,
    code,
    messageId: req.messageId,
    token: req.token,
    options: [uintOption(Opt.OBSERVE, observe.seq), uintOption(Opt.CONTENT_FORMAT, contentFormatOf(observe.format))],
    payload: payloadOf(observe.format, observe.value),
  });
}
