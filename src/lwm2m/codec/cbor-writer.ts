/**
 * The one CBOR encoder (RFC 8949) of the CBOR content formats: CBOR (60), SenML CBOR (112) and
 * LwM2M CBOR (11544). Numbers are written here only (`number`, `int`, `float`).
 *
 * Decoding uses cbor-x; encoding is done here because cbor-x cannot write half-precision floats,
 * writes integral floats as integers, integers beyond 32 bits as floats, bigints always in 8 bytes,
 * and gives no control over key order. Rules applied:
 * - integers in the shortest head (RFC 8949 §4.2.1 preferred serialization), bigints up to 64 bits;
 * - floats in the shortest of half/single/double that holds the value exactly (RFC 8949 §4.2.2,
 *   RFC 8428 §6, LwM2M-Core 1.2 §7.4.7);
 * - definite lengths only (RFC 8428 §6: a SenML pack MUST use a definite-length array).
 */
import { CodecError } from '../../common/errors';
import { UINT64_MAX } from './value-rules';

const TWO_32 = 0x100000000;

export class CborWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes a major type with its argument in the shortest form. */
  private head(major: number, arg: number): void {
    const mt = major << 5;
    this.room(9);
    const b = this.buf;
    if (arg < 24) b[this.pos++] = mt | arg;
    else if (arg < 0x100) {
      b[this.pos++] = mt | 24;
      b[this.pos++] = arg;
    } else if (arg < 0x10000) {
      b[this.pos++] = mt | 25;
      b.writeUInt16BE(arg, this.pos);
      this.pos += 2;
    } else if (arg < TWO_32) {
      b[this.pos++] = mt | 26;
      b.writeUInt32BE(arg, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = mt | 27;
      b.writeUInt32BE(Math.floor(arg / TWO_32), this.pos);
      b.writeUInt32BE(arg % TWO_32, this.pos + 4);
      this.pos += 8;
    }
  }

  private bigHead(major: number, arg: bigint): void {
    if (arg <= BigInt(Number.MAX_SAFE_INTEGER)) return this.head(major, Number(arg));
    this.room(9);
    this.buf[this.pos++] = (major << 5) | 27;
    this.buf.writeBigUInt64BE(arg, this.pos);
    this.pos += 8;
  }

  /** An integer (major type 0 or 1). Numbers must be safe integers; bigints must fit 64 bits. */
  int(v: number | bigint): this {
    if (typeof v === 'bigint') {
      const neg = v < 0n;
      const arg = neg ? -1n - v : v;
      if (arg > UINT64_MAX) throw new CodecError(`integer ${v} does not fit in CBOR's 64-bit range`);
      this.bigHead(neg ? 1 : 0, arg);
    } else {
      if (!Number.isSafeInteger(v)) throw new CodecError(`${v} is not an exact integer`);
      if (v >= 0) this.head(0, v);
      else this.head(1, -1 - v);
    }
    return this;
  }

  /**
   * A number: a float when `asFloat` (the value of a Float resource, LwM2M-Core 1.2 Table C.-2) or
   * when it is not an exact integer, else an integer.
   */
  number(v: number | bigint, asFloat = false): this {
    return asFloat || (typeof v === 'number' && !Number.isSafeInteger(v)) ? this.float(Number(v)) : this.int(v);
  }

  /** A float in the shortest exact IEEE 754 form (major type 7). */
  float(v: number): this {
    this.room(9);
    const b = this.buf;
    const half = toHalf(v);
    if (half >= 0) {
      b[this.pos++] = 0xf9;
      b.writeUInt16BE(half, this.pos);
      this.pos += 2;
    } else if (Math.fround(v) === v) {
      b[this.pos++] = 0xfa;
      b.writeFloatBE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xfb;
      b.writeDoubleBE(v, this.pos);
      this.pos += 8;
    }
    return this;
  }

  text(s: string): this {
    const len = Buffer.byteLength(s, 'utf8');
    this.head(3, len);
    this.room(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    return this;
  }

  bytes(data: Uint8Array): this {
    this.head(2, data.length);
    this.room(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  bool(v: boolean): this {
    this.room(1);
    this.buf[this.pos++] = v ? 0xf5 : 0xf4;
    return this;
  }

  null(): this {
    this.room(1);
    this.buf[this.pos++] = 0xf6;
    return this;
  }

  /** A tag (major type 6) for the item written next, e.g. 1 for an epoch-based date/time (RFC 8949 §3.4.2). */
  tag(n: number): this {
    this.head(6, n);
    return this;
  }

  array(length: number): this {
    this.head(4, length);
    return this;
  }

  map(size: number): this {
    this.head(5, size);
    return this;
  }

  /** The encoded bytes (a copy: the writer's buffer may be larger). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** The IEEE 754 binary16 bits of `v` when exactly representable, else -1. */
export function toHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal: a = m × 2^-24 with m < 1024.
    const m = a * 2 ** 24;
    return Number.isInteger(m) ? sign | m : -1;
  }
  let exp = Math.floor(Math.log2(a));
  if (2 ** exp > a) exp--;
  else if (2 ** (exp + 1) <= a) exp++;
  if (exp > 15) return -1;
  const m = (a / 2 ** exp - 1) * 1024;
  return Number.isInteger(m) ? sign | ((exp + 15) << 10) | m : -1;
}
