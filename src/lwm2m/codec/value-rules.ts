/**
 * The LwM2M value rules, one copy for every codec (text, opaque, TLV, CBOR, LwM2M JSON, SenML JSON,
 * SenML CBOR, LwM2M CBOR). LwM2M-Core 1.2 Appendix C ("Data Types"):
 *
 *   Integer            signed 64-bit; -0 is the Integer 0 (an integer has no negative zero)
 *   Unsigned Integer   0 .. 2^64-1
 *   Float              IEEE 754 binary32 / binary64
 *   Time               a signed integer: whole seconds since 1970-01-01T00:00Z
 *   Objlnk             "ObjectID:InstanceID", each a 16-bit unsigned integer (65535:65535 is the null link)
 *   String, Corelnk    UTF-8 (malformed sequences are an error, never U+FFFD)
 *   Opaque             bytes; base64 (RFC 4648 §4) in the text formats (text/plain, LwM2M JSON)
 *
 * Integers are numbers within the safe range and bigints beyond (../value.ts). Everything thrown is a
 * CodecError naming the path concerned (`where`).
 */
import { isUtf8 } from 'node:buffer';
import { CodecError } from '../../common/errors';
import { isObjlnk, normaliseInteger, type LwM2mValue, type Objlnk, type ResourceType } from '../value';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;
/** Largest |seconds| a JS Date can hold (ECMA-262 §21.4.1.1: ±8.64e15 ms). */
const MAX_DATE_SECONDS = 8.64e12;

export type IntegerType = 'INTEGER' | 'UNSIGNED_INTEGER';

// ---- Integer, Unsigned Integer -----------------------------------------------------------------

/**
 * Range-checks an integer for INTEGER (signed 64-bit) or UNSIGNED_INTEGER (0..2^64-1) and normalises
 * it: a number within the safe range (-0 becomes 0), a bigint beyond. Safe numbers take a fast path
 * without bigint arithmetic.
 */
export function checkInteger(v: number | bigint, type: IntegerType, where: string): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new CodecError(`${v} is not an integer`, where);
    if (Number.isSafeInteger(v)) {
      if (type === 'UNSIGNED_INTEGER' && v < 0) throw new CodecError(`${v} is out of range for ${type}`, where);
      return v + 0; // -0 → 0
    }
    v = BigInt(v);
  }
  const ok = type === 'UNSIGNED_INTEGER' ? v >= 0n && v <= UINT64_MAX : v >= INT64_MIN && v <= INT64_MAX;
  if (!ok) throw new CodecError(`${v} is out of range for ${type}`, where);
  return normaliseInteger(v);
}

/** The type of an integer whose resource the model does not know: Unsigned only beyond the signed range. */
export function integerType(v: number | bigint): IntegerType {
  return v > INT64_MAX ? 'UNSIGNED_INTEGER' : 'INTEGER';
}

// ---- Time --------------------------------------------------------------------------------------

/** Wire time (whole seconds since the epoch) → Date. A fraction or a time beyond a Date's range is an error. */
export function secondsToDate(seconds: number | bigint, where: string): Date {
  const s = Number(seconds);
  if (!Number.isInteger(s)) throw new CodecError(`time ${seconds} is not a whole number of seconds`, where);
  if (Math.abs(s) > MAX_DATE_SECONDS) throw new CodecError(`time ${seconds} is out of range`, where);
  return new Date(s * 1000);
}

/** Date → wire time, whole seconds since the epoch (rounded down). */
export function dateToSeconds(d: Date, where: string): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new CodecError('invalid Date', where);
  return Math.floor(ms / 1000);
}

// ---- Objlnk ------------------------------------------------------------------------------------

const OBJLNK_TEXT = /^(\d{1,5}):(\d{1,5})$/;

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/** "oid:iid" (the text form of the text formats, SenML "vlo" and CBOR), each id 0..65535. */
export function parseObjlnk(text: string, where: string): Objlnk {
  const m = OBJLNK_TEXT.exec(text);
  const objectId = m ? Number(m[1]) : NaN;
  const instanceId = m ? Number(m[2]) : NaN;
  if (objectId <= 0xffff && instanceId <= 0xffff) return { objectId, instanceId };
  throw new CodecError(`"${text}" is not an Objlnk "oid:iid" (ids 0..65535)`, where);
}

/** The text form "oid:iid" of an Objlnk (checked by typedValue / coerceValue). */
export function formatObjlnk(l: Objlnk): string {
  return `${l.objectId}:${l.instanceId}`;
}

// ---- Opaque in text, String --------------------------------------------------------------------

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** RFC 4648 §4 base64 (classic alphabet); padding optional on input, always written on output. */
export function decodeBase64(text: string, where: string): Buffer {
  if (!BASE64.test(text)) throw new CodecError('invalid base64 opaque value', where);
  return Buffer.from(text, 'base64');
}

/** Strict UTF-8: malformed sequences are an error, not U+FFFD. */
export function decodeUtf8(buf: Buffer, where: string): string {
  if (!isUtf8(buf)) throw new CodecError('string value is not valid UTF-8', where);
  return buf.toString('utf8');
}

// ---- typed values ------------------------------------------------------------------------------

/**
 * `v` as a value of `type`: undefined when `v` is of a kind the type does not take, a CodecError when
 * it is of the right kind but breaks the type's rules (integer range, whole seconds, 16-bit Objlnk ids).
 * Integral numbers and bigints are interchangeable; a TIME may also be given as integer seconds.
 * Used by every encoder (through coerceValue) and by the decoders of self-describing formats.
 */
export function typedValue(v: unknown, type: ResourceType, where: string): LwM2mValue | undefined {
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      return typeof v === 'number' || typeof v === 'bigint' ? checkInteger(v, type, where) : undefined;
    case 'FLOAT':
      return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
    case 'TIME':
      if (v instanceof Date) return v;
      return typeof v === 'number' || typeof v === 'bigint' ? secondsToDate(v, where) : undefined;
    case 'BOOLEAN':
      return typeof v === 'boolean' ? v : undefined;
    case 'STRING':
    case 'CORELNK':
      return typeof v === 'string' ? v : undefined;
    case 'OPAQUE':
      return Buffer.isBuffer(v) ? v : undefined;
    case 'OBJLNK':
      if (!isObjlnk(v)) return undefined;
      if (isU16(v.objectId) && isU16(v.instanceId)) return v;
      throw new CodecError(`invalid Objlnk ${v.objectId}:${v.instanceId}`, where);
    case 'NONE':
      throw new CodecError('an executable resource (type NONE) has no value', where);
  }
}

function describe(v: LwM2mValue): string {
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (v instanceof Date) return 'Date';
  if (typeof v === 'object') return 'Objlnk';
  return typeof v;
}

/** The value as the encoders expect it for `type` (see typedValue), or a CodecError. */
export function coerceValue(v: LwM2mValue, type: ResourceType, where: string): LwM2mValue {
  const value = typedValue(v, type, where);
  if (value === undefined) throw new CodecError(`a ${describe(v)} value cannot be encoded as ${type}`, where);
  return value;
}
