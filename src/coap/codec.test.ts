/**
 * CoAP codec golden bytes (RFC 7252 §3, §3.1, Appendix A) and every decode rejection rule.
 * The cross-check against the independent `coap-packet` implementation is in codec-interop.test.ts.
 */
import { CoapFormatError } from '../common/errors';
import { decode, emptyMessage, encode } from './codec';
import { Code, EMPTY_BUFFER, Method, MessageType, Opt, type CoapMessage, type CoapOption } from './message';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function msg(partial: Partial<CoapMessage> & Pick<CoapMessage, 'type' | 'code'>): CoapMessage {
  return { messageId: 0, token: EMPTY_BUFFER, options: [], payload: EMPTY_BUFFER, ...partial };
}

/** Decodes and requires a message (not the `null` of an unknown version). */
function decodeOk(buf: Buffer): CoapMessage {
  const m = decode(buf);
  if (m === null) throw new Error('decode returned null');
  return m;
}

function decodeError(buf: Buffer): CoapFormatError {
  try {
    decode(buf);
  } catch (err) {
    if (err instanceof CoapFormatError) return err;
    throw err;
  }
  throw new Error(`decode accepted ${buf.toString('hex')}`);
}

const opt = (number: number, value: Buffer | string): CoapOption => ({
  number,
  value: typeof value === 'string' ? Buffer.from(value) : value,
});

describe('codec golden bytes (RFC 7252 Appendix A style exchanges)', () => {
  // Figure 16: CON [0x7d34] GET /temperature with a 1-byte token.
  const get = msg({
    type: MessageType.CON,
    code: Method.GET,
    messageId: 0x7d34,
    token: hex('31'),
    options: [opt(Opt.URI_PATH, 'temperature')],
  });
  const getWire = Buffer.concat([hex('41017d3431bb'), Buffer.from('temperature')]);

  it('encodes CON GET /temperature: header, token, Uri-Path delta 11 length 11 (§3, §3.1)', () => {
    expect(encode(get)).toEqual(getWire);
  });

  it('decodes CON GET /temperature', () => {
    expect(decodeOk(getWire)).toEqual(get);
  });

  // Figure 16 answer: ACK [0x7d34] 2.05 Content "22.3 C" piggybacked (§5.2.1).
  const ack = msg({
    type: MessageType.ACK,
    code: Code.CONTENT,
    messageId: 0x7d34,
    token: hex('31'),
    payload: Buffer.from('22.3 C'),
  });
  const ackWire = Buffer.concat([hex('61457d3431ff'), Buffer.from('22.3 C')]);

  it('encodes and decodes the piggybacked ACK 2.05 with payload marker 0xFF', () => {
    expect(encode(ack)).toEqual(ackWire);
    expect(decodeOk(ackWire)).toEqual(ack);
  });

  it('encodes an Empty ACK and an RST as the 4-byte header only (§4.1, §4.2)', () => {
    expect(encode(msg({ type: MessageType.ACK, code: Code.EMPTY, messageId: 0x1234 }))).toEqual(hex('60001234'));
    expect(encode(msg({ type: MessageType.RST, code: Code.EMPTY, messageId: 0xbeef }))).toEqual(hex('7000beef'));
    expect(decodeOk(hex('60001234'))).toEqual(msg({ type: MessageType.ACK, code: 0, messageId: 0x1234 }));
    expect(decodeOk(hex('7000beef'))).toEqual(msg({ type: MessageType.RST, code: 0, messageId: 0xbeef }));
  });

  it('encodes NON with an 8-byte token', () => {
    const m = msg({ type: MessageType.NON, code: Method.POST, messageId: 1, token: hex('0102030405060708') });
    expect(encode(m)).toEqual(hex('58020001 0102030405060708'));
    expect(decodeOk(hex('580200010102030405060708'))).toEqual(m);
  });
});

describe('codec option delta/length encoding (RFC 7252 §3.1)', () => {
  const cases: [string, CoapOption[], string][] = [
    ['delta 12 fits the nibble', [opt(12, EMPTY_BUFFER)], 'c0'],
    ['delta 13 takes one extended byte 0x00', [opt(13, EMPTY_BUFFER)], 'd000'],
    ['delta 268 is the largest one-byte extension', [opt(268, EMPTY_BUFFER)], 'd0ff'],
    ['delta 269 takes two extended bytes 0x0000', [opt(269, EMPTY_BUFFER)], 'e00000'],
    ['No-Response (258) with value 0x02', [opt(Opt.NO_RESPONSE, hex('02'))], 'd1f502'],
    ['option 65535 with two-byte delta 65266', [opt(65535, EMPTY_BUFFER)], 'e0fef2'],
    ['length 12 fits the nibble', [opt(1, Buffer.alloc(12, 0xaa))], '1c' + 'aa'.repeat(12)],
    ['length 13 takes one extended byte', [opt(1, Buffer.alloc(13, 0xaa))], '1d00' + 'aa'.repeat(13)],
    ['length 268 takes one extended byte 0xff', [opt(1, Buffer.alloc(268, 0xaa))], '1dff' + 'aa'.repeat(268)],
    ['length 269 takes two extended bytes', [opt(1, Buffer.alloc(269, 0xaa))], '1e0000' + 'aa'.repeat(269)],
    [
      'deltas are relative: 11, 11 (delta 0), 15 (delta 4)',
      [opt(11, 'a'), opt(11, 'b'), opt(15, 'c')],
      'b161' + '0162' + '4163',
    ],
    ['both delta and length extended', [opt(300, Buffer.alloc(20, 1))], 'ed001f07' + '01'.repeat(20)],
  ];

  it.each(cases)('%s', (_name, options, wireOptions) => {
    const m = msg({ type: MessageType.CON, code: Method.GET, messageId: 7, options });
    const wire = Buffer.concat([hex('40010007'), hex(wireOptions)]);
    expect(encode(m)).toEqual(wire);
    expect(decodeOk(wire)).toEqual(m);
  });

  it('a 2048-byte option value has length nibble 14 and extension 2048 - 269 = 0x06f3', () => {
    const value = Buffer.alloc(2048, 0x5a);
    const m = msg({
      type: MessageType.CON,
      code: Method.PUT,
      messageId: 9,
      options: [opt(Opt.URI_PATH, value)],
      payload: Buffer.from('x'),
    });
    const wire = encode(m);
    expect(wire.subarray(4, 7)).toEqual(hex('be06f3'));
    expect(wire.length).toBe(4 + 3 + 2048 + 2);
    expect(decodeOk(wire)).toEqual(m);
  });

  it('sorts unsorted options stably by number when encoding (§3.1)', () => {
    const m = msg({ type: MessageType.CON, code: Method.GET, options: [opt(15, 'q'), opt(11, 'a'), opt(11, 'b')] });
    expect(decodeOk(encode(m)).options).toEqual([opt(11, 'a'), opt(11, 'b'), opt(15, 'q')]);
  });

  it('refuses to encode a token longer than 8 bytes (§3 TKL)', () => {
    expect(() => encode(msg({ type: MessageType.CON, code: 1, token: Buffer.alloc(9) }))).toThrow(CoapFormatError);
  });
});

describe('codec decode errors (RFC 7252 §3 "message format error")', () => {
  it('a datagram shorter than the 4-byte header has no header info', () => {
    for (const b of [hex(''), hex('40'), hex('4001'), hex('400100')]) {
      const err = decodeError(b);
      expect(err.code).toBe('COAP_MESSAGE_FORMAT');
      expect(err.header).toBeUndefined();
    }
  });

  it.each([9, 10, 11, 12, 13, 14, 15])('TKL %i is reserved, error carries type and MID', (tkl) => {
    const err = decodeError(Buffer.concat([Buffer.from([0x40 | tkl, 0x01, 0x12, 0x34]), Buffer.alloc(16)]));
    expect(err.header).toEqual({ type: MessageType.CON, messageId: 0x1234 });
  });

  it('datagram ending inside the token', () => {
    expect(decodeError(hex('54010001aabb')).header).toEqual({ type: MessageType.NON, messageId: 1 });
  });

  it('payload marker followed by an empty payload, header includes the token', () => {
    const err = decodeError(hex('41010002ee ff'));
    expect(err.header).toEqual({ type: MessageType.CON, messageId: 2, token: hex('ee') });
  });

  it.each([
    ['option delta nibble 15', '40010003 f0'],
    ['option length nibble 15', '40010003 1f'],
    ['truncated one-byte extended delta', '40010003 d0'],
    ['truncated two-byte extended delta', '40010003 e000'],
    ['truncated one-byte extended length', '40010003 1d'],
    ['truncated two-byte extended length', '40010003 1e00'],
    ['option value past the end', '40010003 b3 6162'],
    ['extended length value past the end', '40010003 1d00 aabbcc'],
    ['option number above 65535', '40010003 e0fef2 e00000'],
  ])('%s', (_name, wire) => {
    const err = decodeError(hex(wire));
    expect(err.header).toEqual({ type: MessageType.CON, messageId: 3, token: EMPTY_BUFFER });
  });

  it('an Empty message (0.00) with a token, an option or a payload (§4.1)', () => {
    expect(decodeError(hex('61000004aa')).header).toEqual({ type: MessageType.ACK, messageId: 4 });
    expect(decodeError(hex('70000005ff61')).header).toEqual({ type: MessageType.RST, messageId: 5 });
    expect(decodeError(hex('4000000610')).header).toEqual({ type: MessageType.CON, messageId: 6 });
  });

  it.each([
    [1, 0x20],
    [1, 0x3f],
    [6, 0xc0],
    [7, 0xe0],
    [7, 0xff],
  ])('reserved code class %i (code %i) (§12.1)', (_cls, c) => {
    const err = decodeError(Buffer.from([0x50, c, 0x00, 0x07]));
    expect(err.header).toEqual({ type: MessageType.NON, messageId: 7 });
  });

  it.each([0x00, 0x80, 0xc0])('unknown version (version bits of %i) is silently ignored: null (§3)', (b0) => {
    expect(decode(Buffer.from([b0 | 0x01, 0x01, 0x00, 0x01, 0xaa]))).toBeNull();
    expect(decode(Buffer.from([b0 | 0x0f, 0xe0, 0x00, 0x01]))).toBeNull();
  });

  it('decoded buffers are views: no copy of the datagram is needed for token/options/payload', () => {
    const wire = hex('410100 08 aa b1 61 ff 7a');
    const m = decodeOk(wire);
    expect(m.token).toEqual(hex('aa'));
    expect(m.options).toEqual([opt(11, 'a')]);
    expect(m.payload).toEqual(Buffer.from('z'));
  });
});

describe('emptyMessage', () => {
  it('builds the same four bytes as encode() for an empty ACK and RST', () => {
    for (const type of [MessageType.ACK, MessageType.RST] as const) {
      for (const messageId of [0, 1, 0x1234, 0xffff]) {
        expect(emptyMessage(type, messageId)).toEqual(
          encode({ type, code: 0, messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }),
        );
      }
    }
  });
});
