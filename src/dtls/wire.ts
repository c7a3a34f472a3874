/**
 * Reading and writing the TLS presentation language (RFC 5246 §4): big-endian integers of 1, 2,
 * 3 and 6 bytes, and vectors with a 1-, 2- or 3-byte length prefix. A read past the end throws
 * DtlsDecodeError naming what was being read.
 */
import { DtlsDecodeError } from '../common/errors';

export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new DtlsDecodeError(`${what}: needs ${n} bytes, ${this.end - this.pos} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(what: string): number {
    this.need(3, what);
    const v = this.buf.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }

  u48(what: string): number {
    this.need(6, what);
    const v = this.buf.readUIntBE(this.pos, 6);
    this.pos += 6;
    return v;
  }

  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A vector with a `lengthBytes`-byte length prefix, bounded to `max` bytes. */
  vector(lengthBytes: 1 | 2 | 3, what: string, max = 1 << 24): Buffer {
    const n = lengthBytes === 1 ? this.u8(what) : lengthBytes === 2 ? this.u16(what) : this.u24(what);
    if (n > max) throw new DtlsDecodeError(`${what}: ${n} bytes, at most ${max} allowed`);
    return this.bytes(n, what);
  }

  rest(): Buffer {
    return this.bytes(this.remaining, 'rest');
  }
}

/** Builds a message from parts; sizes are checked against the prefix width. */
export class WireWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  private push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  u8(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }

  u16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }

  u24(v: number): this {
    const b = Buffer.allocUnsafe(3);
    b.writeUIntBE(v, 0, 3);
    return this.push(b);
  }

  u48(v: number): this {
    const b = Buffer.allocUnsafe(6);
    b.writeUIntBE(v, 0, 6);
    return this.push(b);
  }

  bytes(b: Buffer): this {
    return this.push(b);
  }

  vector(lengthBytes: 1 | 2 | 3, b: Buffer): this {
    if (b.length >= 2 ** (8 * lengthBytes))
      throw new RangeError(`vector of ${b.length} bytes does not fit a ${lengthBytes}-byte length`);
    if (lengthBytes === 1) this.u8(b.length);
    else if (lengthBytes === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.push(b);
  }

  toBuffer(): Buffer {
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
  }
}
