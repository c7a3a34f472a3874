/**
 * Cross-check of our codec (RFC 7252 §3) against the independent npm implementation `coap-packet`,
 * on a few hundred pseudo-random valid messages, in both directions and byte for byte.
 * The random generator is seeded so that a failure is reproducible.
 */
import { generate, parse, type Packet, type ParsedPacket } from 'coap-packet';
import { decode, encode } from './codec';
import { EMPTY_BUFFER, MessageType, type CoapMessage, type CoapOption } from './message';

/** coap-packet reports known option numbers by name; this is its name table (index.js OPTIONS_BY_NAME). */
const COAP_PACKET_OPTION_NUMBERS: Readonly<Record<string, number>> = {
  'If-Match': 1,
  'Uri-Host': 3,
  ETag: 4,
  'If-None-Match': 5,
  Observe: 6,
  'Uri-Port': 7,
  'Location-Path': 8,
  OSCORE: 9,
  'Uri-Path': 11,
  'Content-Format': 12,
  'Max-Age': 14,
  'Uri-Query': 15,
  'Hop-Limit': 16,
  Accept: 17,
  'Q-Block1': 19,
  'Location-Query': 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  'Q-Block2': 31,
  'Proxy-Uri': 35,
  'Proxy-Scheme': 39,
  Size1: 60,
  'No-Response': 258,
  'OCF-Accept-Content-Format-Version': 2049,
  'OCF-Content-Format-Version': 2053,
};

function optionNumber(name: string | number): number {
  if (typeof name === 'number') return name;
  const known = COAP_PACKET_OPTION_NUMBERS[name];
  if (known !== undefined) return known;
  const n = Number.parseInt(name, 10);
  if (!Number.isInteger(n)) throw new Error(`coap-packet returned an unknown option name ${name}`);
  return n;
}

const formatCode = (c: number): string => `${c >> 5}.${String(c & 0x1f).padStart(2, '0')}`;

/** Typed wrapper: our message model → coap-packet input. */
function toPacket(m: CoapMessage): Packet {
  return {
    code: formatCode(m.code),
    messageId: m.messageId,
    token: Buffer.from(m.token),
    payload: Buffer.from(m.payload),
    // Numeric names are passed as strings: coap-packet parses them with parseInt.
    options: m.options.map((o) => ({ name: String(o.number), value: Buffer.from(o.value) })),
    confirmable: m.type === MessageType.CON,
    ack: m.type === MessageType.ACK,
    reset: m.type === MessageType.RST,
  };
}

/** Typed wrapper: coap-packet output → our message model. */
function fromParsed(p: ParsedPacket): CoapMessage {
  const [cls, detail] = p.code.split('.').map((s) => Number.parseInt(s, 10));
  const type = p.confirmable ? MessageType.CON : p.ack ? MessageType.ACK : p.reset ? MessageType.RST : MessageType.NON;
  return {
    type,
    code: ((cls as number) << 5) | (detail as number),
    messageId: p.messageId,
    token: Buffer.from(p.token),
    options: p.options.map((o) => ({ number: optionNumber(o.name), value: Buffer.from(o.value) })),
    payload: Buffer.from(p.payload),
  };
}

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomMessage(rnd: () => number): CoapMessage {
  const int = (n: number): number => Math.floor(rnd() * n);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const type = int(4) as MessageType;
  const messageId = int(0x10000);
  if (int(10) === 0) {
    // Empty message (§4.1): header only.
    return { type, code: 0, messageId, token: EMPTY_BUFFER, options: [], payload: EMPTY_BUFFER };
  }
  // Requests 0.01-0.31, responses 2.xx-5.xx (classes 1, 6, 7 are reserved).
  const code = int(2) === 0 ? 1 + int(31) : ((2 + int(4)) << 5) | int(32);
  const options: CoapOption[] = [];
  let number = 0;
  const count = int(8);
  for (let i = 0; i < count; i++) {
    // Mix small deltas, one-byte and two-byte extended deltas, and repeats (delta 0).
    const pick = int(5);
    const delta =
      pick === 0
        ? 0
        : pick === 1
          ? 1 + int(12)
          : pick === 2
            ? 13 + int(256)
            : pick === 3
              ? 269 + int(2000)
              : 1 + int(30);
    if (number + delta > 0xffff) break;
    number += delta;
    if (number === 0) number = 1;
    const lenPick = int(10);
    const len = lenPick < 5 ? int(13) : lenPick < 8 ? 13 + int(256) : lenPick < 9 ? 269 + int(600) : 2048;
    options.push({ number, value: bytes(len) });
  }
  const payload = int(3) === 0 ? EMPTY_BUFFER : bytes(1 + int(int(4) === 0 ? 3000 : 60));
  return { type, code, messageId, token: bytes(int(9)), options, payload };
}

/** Hex view for comparisons: jest's deep equality on large Buffers is slow. */
function view(m: CoapMessage | null): string {
  if (m === null) return 'null';
  const opts = m.options.map((o) => `${o.number}=${o.value.toString('hex')}`).join(',');
  return `${m.type}|${m.code}|${m.messageId}|${m.token.toString('hex')}|${opts}|${m.payload.toString('hex')}`;
}

const COUNT = 400;
const MAX_LENGTH = 1 << 20;

describe('codec agrees with coap-packet (independent RFC 7252 §3 implementation)', () => {
  const rnd = prng(0xc0a9);
  const messages = Array.from({ length: COUNT }, () => randomMessage(rnd));

  it('covers extended deltas, extended lengths, repeats, Empty messages and every type', () => {
    const deltas = messages.flatMap((m) =>
      m.options.map((o, i) => o.number - (i === 0 ? 0 : (m.options[i - 1] as CoapOption).number)),
    );
    expect(deltas.some((d) => d === 0)).toBe(true);
    expect(deltas.some((d) => d >= 13 && d < 269)).toBe(true);
    expect(deltas.some((d) => d >= 269)).toBe(true);
    expect(messages.some((m) => m.options.some((o) => o.value.length === 2048))).toBe(true);
    expect(messages.some((m) => m.code === 0)).toBe(true);
    expect(new Set(messages.map((m) => m.type)).size).toBe(4);
  });

  it('our encode produces the same bytes as coap-packet generate', () => {
    for (const m of messages) expect(encode(m).toString('hex')).toBe(generate(toPacket(m), MAX_LENGTH).toString('hex'));
  });

  it('coap-packet parses what we encode into the same message', () => {
    for (const m of messages) expect(view(fromParsed(parse(encode(m))))).toBe(view(m));
  });

  it('we decode what coap-packet generates into the same message', () => {
    for (const m of messages) expect(view(decode(generate(toPacket(m), MAX_LENGTH)))).toBe(view(m));
  });

  it('decode(encode(m)) is the identity', () => {
    for (const m of messages) expect(view(decode(encode(m)))).toBe(view(m));
  });
});
