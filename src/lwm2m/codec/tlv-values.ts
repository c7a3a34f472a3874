/**
 * TLV value field ↔ typed value (LwM2M-Core 1.1 §7.4.3 and Appendix C Table C.2, TLV column):
 *
 *   INTEGER, TIME      1, 2, 4 or 8 bytes, big-endian two's complement (we write the shortest)
 *   UNSIGNED_INTEGER   1, 2, 4 or 8 bytes, big-endian unsigned (LwM2M 1.1)
 *   FLOAT              4 bytes (IEEE 754 binary32) or 8 bytes (binary64); we write 4 only when exact
 *   BOOLEAN            1 byte, 0 or 1
 *   OBJLNK             4 bytes: object id (16 bits) then instance id (16 bits)
 *   STRING, CORELNK    UTF-8
 *   OPAQUE             the raw bytes
 */
import type { LwM2mValue, Objlnk, ResourceType } from '../value';
import { fail } from './codec-common';
import { checkInteger, coerceValue, dateToSeconds, decodeUtf8, secondsToDate } from './value-rules';

/** 1, 2 and 4 bytes read as number; 8 bytes as bigint (normalised by checkInteger). */
function readInteger(b: Buffer, unsigned: boolean, where: string): number | bigint {
  switch (b.length) {
    case 1:
    case 2:
    case 4:
      return unsigned ? b.readUIntBE(0, b.length) : b.readIntBE(0, b.length);
    case 8:
      return unsigned ? b.readBigUInt64BE(0) : b.readBigInt64BE(0);
    default:
      throw fail(`an integer TLV value must be 1, 2, 4 or 8 bytes, not ${b.length}`, where);
  }
}

export function decodeTlvValue(b: Buffer, type: ResourceType, where: string): LwM2mValue {
  switch (type) {
    case 'STRING':
    case 'CORELNK':
      return decodeUtf8(b, where);
    case 'INTEGER':
      return checkInteger(readInteger(b, false, where), 'INTEGER', where);
    case 'UNSIGNED_INTEGER':
      return checkInteger(readInteger(b, true, where), 'UNSIGNED_INTEGER', where);
    case 'TIME':
      return secondsToDate(readInteger(b, false, where), where);
    case 'FLOAT':
      if (b.length === 4) return b.readFloatBE(0);
      if (b.length === 8) return b.readDoubleBE(0);
      throw fail(`a FLOAT TLV value must be 4 or 8 bytes, not ${b.length}`, where);
    case 'BOOLEAN':
      if (b.length !== 1 || (b[0] as number) > 1) throw fail('a BOOLEAN TLV value must be one byte, 0 or 1', where);
      return b[0] === 1;
    case 'OBJLNK':
      if (b.length !== 4) throw fail(`an OBJLNK TLV value must be 4 bytes, not ${b.length}`, where);
      return { objectId: b.readUInt16BE(0), instanceId: b.readUInt16BE(2) };
    case 'OPAQUE':
      // Copy: the payload buffer may be reused by the transport once decoding returns.
      return Buffer.from(b);
    case 'NONE':
      throw fail('an executable resource (type NONE) has no value', where);
  }
}

function writeSigned(v: bigint): Buffer {
  if (v >= -0x80n && v <= 0x7fn) {
    const b = Buffer.allocUnsafe(1);
    b.writeInt8(Number(v));
    return b;
  }
  if (v >= -0x8000n && v <= 0x7fffn) {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(Number(v));
    return b;
  }
  if (v >= -0x80000000n && v <= 0x7fffffffn) {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(Number(v));
    return b;
  }
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(v);
  return b;
}

function writeUnsigned(v: bigint): Buffer {
  const size = v <= 0xffn ? 1 : v <= 0xffffn ? 2 : v <= 0xffffffffn ? 4 : 8;
  const b = Buffer.allocUnsafe(size);
  if (size === 8) b.writeBigUInt64BE(v);
  else b.writeUIntBE(Number(v), 0, size);
  return b;
}

/** Small signed integers are the common case: avoid bigint arithmetic for them. */
function writeSafeSigned(v: number): Buffer {
  const size =
    v >= -0x80 && v <= 0x7f ? 1 : v >= -0x8000 && v <= 0x7fff ? 2 : v >= -0x80000000 && v <= 0x7fffffff ? 4 : 0;
  if (size === 0) return writeSigned(BigInt(v));
  const b = Buffer.allocUnsafe(size);
  b.writeIntBE(v, 0, size);
  return b;
}

export function encodeTlvValue(value: LwM2mValue, type: ResourceType, where: string): Buffer {
  const v = coerceValue(value, type, where);
  switch (type) {
    case 'INTEGER':
      return typeof v === 'number' ? writeSafeSigned(v) : writeSigned(v as bigint);
    case 'UNSIGNED_INTEGER':
      return writeUnsigned(BigInt(v as number | bigint));
    case 'TIME':
      return writeSafeSigned(dateToSeconds(v as Date, where));
    case 'FLOAT': {
      const f = v as number;
      if (Math.fround(f) === f) {
        const b = Buffer.allocUnsafe(4);
        b.writeFloatBE(f);
        return b;
      }
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleBE(f);
      return b;
    }
    case 'BOOLEAN':
      return Buffer.from([v ? 1 : 0]);
    case 'OBJLNK': {
      const l = v as Objlnk;
      const b = Buffer.allocUnsafe(4);
      b.writeUInt16BE(l.objectId, 0);
      b.writeUInt16BE(l.instanceId, 2);
      return b;
    }
    case 'OPAQUE':
      return v as Buffer;
    default:
      return Buffer.from(v as string, 'utf8'); // STRING, CORELNK (NONE was rejected by coerceValue)
  }
}
