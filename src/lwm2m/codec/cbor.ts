/**
 * application/cbor (Content-Format 60): one CBOR data item (RFC 8949) holding the value of a single
 * resource or resource instance. LwM2M-Core 1.1.1 / 1.2 §7.4 ("CBOR") and Appendix C Table C.2, CBOR column:
 *
 *   INTEGER            major type 0/1 (signed 64-bit)      UNSIGNED_INTEGER  major type 0
 *   FLOAT              major type 7 float (16/32/64 read; written in the shortest exact form)
 *   BOOLEAN            simple value true/false             TIME   tag 1 + integer seconds (also read:
 *                                                                 untagged integer, tag 0 date string)
 *   STRING, CORELNK    text string                         OBJLNK text string "oid:iid"
 *   OPAQUE             byte string
 *
 * Reading is cbor-x; writing is the CborWriter shared with SenML CBOR and LwM2M CBOR (./cbor-writer.ts),
 * values follow the rules of ./value-rules.ts.
 */
import { Decoder } from 'cbor-x';
import { formatPath, type LwM2mPath } from '../path';
import type { LwM2mNode } from '../node';
import type { LwM2mValue, Objlnk, ResourceType } from '../value';
import { ContentFormat, type CodecContext, type NodeCodec } from './types';
import {
  checkNodeAtPath,
  encodeType,
  fail,
  isLeafNodeSupported,
  leafNode,
  leafOf,
  modelType,
  requireLeafPath,
} from './codec-common';
import { coerceValue, dateToSeconds, formatObjlnk, integerType, parseObjlnk, typedValue } from './value-rules';
import { CborWriter } from './cbor-writer';
import { errorMessage } from '../../common/error-message';

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

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
  if (isIntegral(v)) return integerType(v);
  if (typeof v === 'number') return 'FLOAT';
  throw fail('the CBOR item is not a single LwM2M value', where);
}

/** The value of an item for `type`, or undefined when the item is of another CBOR type. */
function itemValue(v: unknown, type: ResourceType, where: string): LwM2mValue | undefined {
  // Objlnk is a text string "oid:iid"; Opaque a byte string, copied so as never to alias the transport's buffer.
  if (type === 'OBJLNK') return typeof v === 'string' ? parseObjlnk(v, where) : undefined;
  if (type === 'OPAQUE') return v instanceof Uint8Array ? Buffer.from(v) : undefined;
  if (v instanceof Date && Number.isNaN(v.getTime())) throw fail('invalid CBOR date/time', where);
  return typedValue(v, type, where);
}

function toValue(v: unknown, type: ResourceType, where: string): LwM2mValue {
  const value = itemValue(v, type, where);
  if (value === undefined)
    throw fail(`the CBOR item (${v === null ? 'null' : typeof v}) is not a valid ${type}`, where);
  return value;
}

function encodeValue(value: LwM2mValue, type: ResourceType, where: string): Buffer {
  const v = coerceValue(value, type, where); // range-checks integers (int64 / uint64)
  const w = new CborWriter(16);
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
    case 'FLOAT':
      w.number(v as number | bigint, type === 'FLOAT');
      break;
    case 'TIME':
      w.tag(1).int(dateToSeconds(v as Date, where)); // tag 1: epoch-based date/time (RFC 8949 §3.4.2)
      break;
    case 'BOOLEAN':
      w.bool(v as boolean);
      break;
    case 'OPAQUE':
      w.bytes(v as Buffer);
      break;
    case 'OBJLNK':
      w.text(formatObjlnk(v as Objlnk));
      break;
    default:
      w.text(v as string); // STRING, CORELNK
  }
  return w.finish();
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
