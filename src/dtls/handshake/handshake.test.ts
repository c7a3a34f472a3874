import { fragmentHandshake, HandshakeType, parseHandshakeFragments } from './header';
import { HandshakeReassembler } from './reassembly';
import { parseClientHello } from './client-hello';
import { WireWriter } from '../wire';

describe('handshake fragments (RFC 6347 §4.2.3)', () => {
  const body = Buffer.from(Array.from({ length: 250 }, (_, i) => i));

  it('fragments a message and reassembles it from reordered, duplicated, overlapping fragments', () => {
    const frags = fragmentHandshake(HandshakeType.CERTIFICATE, 2, body, 100).flatMap((f) => parseHandshakeFragments(f));
    expect(frags.map((f) => [f.offset, f.body.length, f.length])).toEqual([
      [0, 100, 250],
      [100, 100, 250],
      [200, 50, 250],
    ]);
    const r = new HandshakeReassembler(2);
    const overlap = { ...(frags[1] as (typeof frags)[number]), offset: 50, body: body.subarray(50, 200) };
    expect(r.add(frags[2] as (typeof frags)[number]).messages).toEqual([]);
    expect(r.add(overlap).messages).toEqual([]);
    expect(r.add(frags[2] as (typeof frags)[number]).messages).toEqual([]);
    const done = r.add(frags[0] as (typeof frags)[number]).messages;
    expect(done).toHaveLength(1);
    expect(done[0]?.body.equals(body)).toBe(true);
    expect(r.expectedSeq).toBe(3);
    expect(r.add(frags[0] as (typeof frags)[number]).old).toBe(true); // a retransmission
  });

  it('delivers messages in message_seq order, holding one that came early', () => {
    const r = new HandshakeReassembler(0);
    const [m1] = parseHandshakeFragments(
      fragmentHandshake(HandshakeType.FINISHED, 1, Buffer.alloc(12), 100)[0] as Buffer,
    );
    const [m0] = parseHandshakeFragments(
      fragmentHandshake(HandshakeType.CLIENT_KEY_EXCHANGE, 0, Buffer.alloc(6), 100)[0] as Buffer,
    );
    expect(r.add(m1 as NonNullable<typeof m1>).messages).toEqual([]);
    expect(r.add(m0 as NonNullable<typeof m0>).messages.map((m) => m.type)).toEqual([
      HandshakeType.CLIENT_KEY_EXCHANGE,
      HandshakeType.FINISHED,
    ]);
  });

  it('refuses fragments that disagree or run past their message', () => {
    expect(() => parseHandshakeFragments(Buffer.from('010000100000000008000010', 'hex'))).toThrow(/beyond its message/);
    expect(() => parseHandshakeFragments(Buffer.from('0100', 'hex'))).toThrow(/header truncated/);
    const r = new HandshakeReassembler(0);
    r.add({ type: 16, length: 10, messageSeq: 0, offset: 0, body: Buffer.alloc(4) });
    expect(() => r.add({ type: 20, length: 10, messageSeq: 0, offset: 4, body: Buffer.alloc(4) })).toThrow(/disagrees/);
  });
});

describe('ClientHello (RFC 6347 §4.2.1)', () => {
  function hello(cookie: Buffer, exts?: Buffer): Buffer {
    const w = new WireWriter()
      .u16(0xfefd)
      .bytes(Buffer.alloc(32, 7))
      .vector(1, Buffer.alloc(0))
      .vector(1, cookie)
      .vector(2, Buffer.from('c0a800ff', 'hex'))
      .vector(1, Buffer.from([0]));
    if (exts !== undefined) w.vector(2, exts);
    return w.toBuffer();
  }

  it('parses suites and extensions; the cookie input leaves out the cookie and the extensions', () => {
    const ems = Buffer.from('00170000', 'hex');
    const a = parseClientHello(hello(Buffer.alloc(0), ems));
    const b = parseClientHello(hello(Buffer.alloc(32, 1)));
    expect(a.cipherSuites).toEqual([0xc0a8, 0x00ff]);
    expect([...a.extensions.keys()]).toEqual([23]);
    expect(b.cookie).toHaveLength(32);
    expect(a.cookieInput.equals(b.cookieInput)).toBe(true);
  });

  it('refuses a truncated or padded ClientHello', () => {
    const h = hello(Buffer.alloc(0));
    expect(() => parseClientHello(h.subarray(0, 40))).toThrow(/cookie|cipher_suites|session_id/);
    expect(() => parseClientHello(Buffer.concat([h, Buffer.from('0000', 'hex'), Buffer.from([1])]))).toThrow(
      /after the ClientHello's extensions/,
    );
  });
});
