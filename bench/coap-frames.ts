/**
 * The device side's CoAP frames, built once with our own codec (src/coap/codec.ts) and then
 * reused: each request only gets its Message ID (and the token's first two bytes, a copy of it)
 * patched in place. Responses are classified from the 4-byte header alone on the hot path.
 *
 *   Register  CON POST /rd?ep=..&lt=..&lwm2m=1.1&b=U   Content-Format 40   </1/0>,</3/0>,</3303/0>
 *   Send      CON POST /dp                            Content-Format 110 (SenML JSON) or 112 (SenML CBOR)
 */
import { encode as encodeCbor } from 'cbor-x';
import { decode, encode } from '../src/coap/codec';
import { EMPTY_BUFFER, MessageType, Method, Opt } from '../src/coap/message';
import { getOptions, pathOptions, uintOption } from '../src/coap/options';

export type SendFormat = 'senml-json' | 'senml-cbor';

/** 4-byte token: bytes 0-1 repeat the Message ID (to match separate responses), 2-3 are fixed. */
const TOKEN_LENGTH = 4;
const LINK_FORMAT = 40;
export const OBJECT_LINKS = '</1/0>,</3/0>,</3303/0>';

function token(): Buffer {
  return Buffer.from([0, 0, 0xbe, 0x4c]);
}

export function registerFrame(endpoint: string, lifetimeS: number, links: string = OBJECT_LINKS): Buffer {
  return encode({
    type: MessageType.CON,
    code: Method.POST,
    messageId: 0,
    token: token(),
    options: [
      ...pathOptions(['rd'], [`ep=${endpoint}`, `lt=${lifetimeS}`, 'lwm2m=1.1', 'b=U']),
      uintOption(Opt.CONTENT_FORMAT, LINK_FORMAT),
    ],
    payload: Buffer.from(links, 'utf8'),
  });
}

/** The Send payload: one temperature reading, /3303/0/5700 = 22.5. */
export function sendPayload(format: SendFormat): { contentFormat: number; payload: Buffer } {
  if (format === 'senml-json')
    return { contentFormat: 110, payload: Buffer.from('[{"bn":"/3303/0/","n":"5700","v":22.5}]', 'utf8') };
  // RFC 8428 §6: bn = -2, n = 0, v = 2.
  const record = new Map<number, string | number>([
    [-2, '/3303/0/'],
    [0, '5700'],
    [2, 22.5],
  ]);
  return { contentFormat: 112, payload: Buffer.from(encodeCbor([record])) };
}

export function sendFrame(format: SendFormat): Buffer {
  const { contentFormat, payload } = sendPayload(format);
  return encode({
    type: MessageType.CON,
    code: Method.POST,
    messageId: 0,
    token: token(),
    options: [...pathOptions(['dp']), uintOption(Opt.CONTENT_FORMAT, contentFormat)],
    payload,
  });
}

/** Writes the Message ID into the header and the token's first two bytes. */
export function patchMessageId(frame: Buffer, mid: number): void {
  frame[2] = mid >> 8;
  frame[3] = mid & 0xff;
  frame[4] = mid >> 8;
  frame[5] = mid & 0xff;
}

export interface ResponseHead {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  /** The Message ID echoed in our token, or -1 when the token is not ours. */
  readonly tokenMid: number;
}

/** Reads the fixed header (RFC 7252 §3) without decoding options; undefined for non-CoAP datagrams. */
export function readHead(buf: Buffer): ResponseHead | undefined {
  if (buf.length < 4 || (buf[0] as number) >> 6 !== 1) return undefined;
  const b0 = buf[0] as number;
  const tkl = b0 & 0x0f;
  const tokenMid = tkl === TOKEN_LENGTH && buf.length >= 8 ? ((buf[4] as number) << 8) | (buf[5] as number) : -1;
  return {
    type: ((b0 >> 4) & 3) as MessageType,
    code: buf[1] as number,
    messageId: ((buf[2] as number) << 8) | (buf[3] as number),
    tokenMid,
  };
}

export function emptyAck(messageId: number): Buffer {
  return encode({ type: MessageType.ACK, code: 0, messageId, token: EMPTY_BUFFER, options: [], payload: EMPTY_BUFFER });
}

/** The registration location "rd/{id}" from a 2.01 Created (LwM2M-Transport 1.2 §6.2). */
export function locationOf(buf: Buffer): string | undefined {
  const msg = decode(buf);
  if (msg === null) return undefined;
  const segments = getOptions(msg, Opt.LOCATION_PATH).map((b) => b.toString('utf8'));
  return segments.length > 0 ? segments.join('/') : undefined;
}
