/**
 * application/cbor (Content-Format 60): one CBOR data item (RFC 8949) holding the value of a single
 * resource or resource instance. LwM2M-Core 1.1.1 / 1.2 §7.4 ("CBOR") and Appendix C Table C.2, CBOR column:
 *
 *   INTEGER            major type 0/1 (signed 64-bit)      UNSIGNED_INTEGER  major type 0
 *   FLOAT              major type 7 float (16/32/64 read; we write 32 when exact, else 64)
 *   BOOLEAN            simple value true/false             TIME   tag 1 + integer seconds (also read:
 *                                                                 untagged integer, tag 0 date string)
 *   STRING, CORELNK    text string                         OBJLNK text string "oid:iid"
 *   OPAQUE             byte string
 *
 * The bytes layer is cbor-x, except numbers, written by hand: cbor-x writes integral floats as integers,
 * integers beyond 32 bits as floats and bigints always in 8 bytes.
 */
import { Decoder, Encoder } from 'cbor-x';
import { BridgeError } from '../../common/errors';
import { formatPath, type LwM2mPath } from '../path';
import type { LwM2mNode } from '../node';
import type { LwM2mValue, ObjLink, ResourceType } from '../value';
import { ContentFormat, type CodecContext, type NodeCodec } from './types';
import {
  checkInteger,
  checkNodeAtPath,
  coerceValue,
  dateToSeconds,
  encodeType,
  fail,
  formatObjlnk,
  INT64_MAX,
  isLeafNodeSupported,
  leafNode,
  leafOf,
  modelType,
  parseObjlnk,
  requireLeafPath,
  secondsToDate,
} from './codec-common';
import { errorMessage } from '../../common/error-message';

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });
const encoder = new Encoder({ useRecords: false });

function parseItem(payload: Buffer, where: string): unknown {
  if (payload.length === 0) throw fail('empty CBOR payload', where);
  try {
    return decoder.decode(payload) as unknown;
  } catch (e) {
    throw fail(`malformed CBOR: ${errorMessage(e)}`, where);
  }
}

function isIntegral(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

/** Type of an item for a resource the model does not know. */
function guessType(v: unknown, where: string): ResourceType {
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'string') return 'STRING';
  if (v instanceof Date) return 'TIME';
  if (v instanceof Uint8Array) return 'OPAQUE';
  if (isIntegral(v)) return BigInt(v) > INT64_MAX ? 'UNSIGNED_INTEGER' : 'INTEGER';
  if (typeof v === 'number') return 'FLOAT';
  throw fail('the CBOR item is not a single LwM2M value', where);
}

function toValue(v: unknown, type: ResourceType, where: string): LwM2mValue {
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      if (isIntegral(v)) return checkInteger(v, type, where);
      break;
    case 'FLOAT':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      break;
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      break;
    case 'TIME':
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) throw fail('invalid CBOR date/time', where);
        return v;
      }
      if (isIntegral(v)) return secondsToDate(v, where);
      break;
    case 'STRING':
    case 'CORELNK':
      if (typeof v === 'string') return v;
      break;
    case 'OBJLNK':
      if (typeof v === 'string') return parseObjlnk(v, where);
      break;
    case 'OPAQUE':
      // Copy: never alias the transport's buffer.
      if (v instanceof Uint8Array) return Buffer.from(v);
      break;
    case 'NONE':
      throw fail('an executable resource (type NONE) has no value', where);
  }
  throw fail(`the CBOR item (${v === null ? 'null' : typeof v}) is not a valid ${type}`, where);
}

function encodeFloat(f: number): Buffer {
  const exact32 = Math.fround(f) === f;
  const b = Buffer.allocUnsafe(exact32 ? 5 : 9);
  b[0] = exact32 ? 0xfa : 0xfb; // major type 7, 32- or 64-bit float (RFC 8949 §3.3)
  if (exact32) b.writeFloatBE(f, 1);
  else b.writeDoubleBE(f, 1);
  return b;
}

/**
 * Major type 0/1 with the shortest argument (RFC 8949 §3.1, §4.2.1 preferred serialization), optionally
 * behind a one-byte tag. By hand: cbor-x writes numbers beyond 32 bits as floats and bigints as 8 bytes.
 */
function encodeInteger(v: number | bigint, tag?: number): Buffer {
  const big = BigInt(v);
  const negative = big < 0n;
  const arg = negative ? -1n - big : big;
  const size = arg < 24n ? 0 : arg <= 0xffn ? 1 : arg <= 0xffffn ? 2 : arg <= 0xffffffffn ? 4 : 8;
  const offset = tag === undefined ? 0 : 1;
  const b = Buffer.allocUnsafe(offset + 1 + size);
  if (tag !== undefined) b[0] = 0xc0 | tag;
  const major = negative ? 0x20 : 0x00;
  if (size === 0) b[offset] = major | Number(arg);
  else {
    b[offset] = major | (size === 1 ? 24 : size === 2 ? 25 : size === 4 ? 26 : 27);
    if (size === 8) b.writeBigUInt64BE(arg, offset + 1);
    else b.writeUIntBE(Number(arg), offset + 1, size);
  }
  return b;
}

function encodeValue(value: LwM2mValue, type: ResourceType, where: string): Buffer {
  const v = coerceValue(value, type, where); // range-checks integers (int64 / uint64)
  switch (type) {
    case 'FLOAT':
      return encodeFloat(v as number);
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      return encodeInteger(v as number | bigint);
    case 'TIME':
      return encodeInteger(dateToSeconds(v as Date, where), 1); // tag 1: epoch-based date/time (RFC 8949 §3.4.2)
    default:
      break;
  }
  try {
    // STRING, CORELNK, OBJLNK → text string; OPAQUE (Buffer) → byte string; BOOLEAN → simple value.
    return encoder.encode(type === 'OBJLNK' ? formatObjlnk(v as ObjLink) : v);
  } catch (e) {
    if (e instanceof BridgeError) throw e;
    throw fail(`cannot encode CBOR: ${errorMessage(e)}`, where);
  }
}

export function createCborCodec(): NodeCodec {
  return {
    format: ContentFormat.CBOR,
    supports: isLeafNodeSupported,
    decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
      requireLeafPath(path, 'application/cbor');
      const where = formatPath(path);
      const item = parseItem(payload, where);
      const type = modelType(ctx, path) ?? guessType(item, where);
      const value = toValue(item, type, where);
      return leafNode(path, type, value);
    },
    encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
      requireLeafPath(path, 'application/cbor');
      checkNodeAtPath(node, path);
      const leaf = leafOf(node, path, 'application/cbor');
      return encodeValue(leaf.value, encodeType(ctx, path, leaf.type), formatPath(path));
    },
  };
}

export const cborCodec: NodeCodec = createCborCodec();
