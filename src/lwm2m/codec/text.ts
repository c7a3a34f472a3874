/**
 * text/plain (Content-Format 0), LwM2M-Core 1.1 §7.4.1 and Appendix C Table C.2:
 * one value of a single resource or resource instance, as UTF-8 text.
 *
 *   STRING, CORELNK    the text itself
 *   INTEGER            ["-"] 1*DIGIT        (signed 64-bit)
 *   UNSIGNED_INTEGER   1*DIGIT              (0 .. 2^64-1)
 *   FLOAT              ["-"] decimal [exponent]
 *   BOOLEAN            "0" / "1"
 *   TIME               integer seconds since 1970-01-01T00:00Z
 *   OBJLNK             object-id ":" instance-id
 *   OPAQUE             base64 (RFC 4648 §4) — or rejected, see TextCodecOptions
 *
 * Decoding is typed by the object model; an unknown resource is decoded as STRING.
 */
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
import {
  checkInteger,
  coerceValue,
  dateToSeconds,
  decodeBase64,
  decodeUtf8,
  formatObjlnk,
  parseObjlnk,
  secondsToDate,
} from './value-rules';

export interface TextCodecOptions {
  /**
   * Opaque values in text/plain. LwM2M-Core 1.0.2 and 1.1.1 Appendix C (Table C.2) represent them
   * as base64, so 'base64' is the default; 'reject' refuses them with a CodecError.
   */
  readonly opaque?: 'base64' | 'reject';
}

const INTEGER_TEXT = /^[-+]?\d+$/;
const UNSIGNED_TEXT = /^\+?\d+$/;
const FLOAT_TEXT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

function parseValue(text: string, type: ResourceType, opaque: 'base64' | 'reject', where: string): LwM2mValue {
  switch (type) {
    case 'STRING':
    case 'CORELNK':
      return text;
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      if (!(type === 'INTEGER' ? INTEGER_TEXT : UNSIGNED_TEXT).test(text))
        throw fail(`"${clip(text)}" is not a valid ${type}`, where);
      return checkInteger(text.length < 16 ? Number(text) : BigInt(text), type, where);
    case 'FLOAT':
      if (!FLOAT_TEXT.test(text)) throw fail(`"${clip(text)}" is not a valid FLOAT`, where);
      return Number(text);
    case 'BOOLEAN':
      if (text === '1') return true;
      if (text === '0') return false;
      throw fail(`"${clip(text)}" is not a valid BOOLEAN ("0" or "1")`, where);
    case 'TIME':
      if (!INTEGER_TEXT.test(text)) throw fail(`"${clip(text)}" is not a valid TIME (integer seconds)`, where);
      return secondsToDate(BigInt(text), where);
    case 'OBJLNK':
      return parseObjlnk(text, where);
    case 'OPAQUE':
      if (opaque === 'reject') throw fail('opaque values are not accepted in text/plain', where);
      return decodeBase64(text, where);
    case 'NONE':
      throw fail('an executable resource (type NONE) has no value', where);
  }
}

function formatValue(value: LwM2mValue, type: ResourceType, opaque: 'base64' | 'reject', where: string): string {
  const v = coerceValue(value, type, where);
  switch (type) {
    case 'FLOAT':
      if (!Number.isFinite(v)) throw fail(`FLOAT ${String(v)} has no text representation`, where);
      return String(v);
    case 'BOOLEAN':
      return v ? '1' : '0';
    case 'TIME':
      return String(dateToSeconds(v as Date, where));
    case 'OBJLNK':
      return formatObjlnk(v as Objlnk);
    case 'OPAQUE':
      if (opaque === 'reject') throw fail('opaque values are not accepted in text/plain', where);
      return (v as Buffer).toString('base64');
    default:
      return String(v); // STRING, CORELNK, INTEGER, UNSIGNED_INTEGER (bigint prints exactly)
  }
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function createTextCodec(options: TextCodecOptions = {}): NodeCodec {
  const opaque = options.opaque ?? 'base64';
  return {
    format: ContentFormat.TEXT,
    supports(path: LwM2mPath, node?: LwM2mNode): boolean {
      if (!isLeafNodeSupported(path, node)) return false;
      return !(opaque === 'reject' && node && 'type' in node && node.type === 'OPAQUE');
    },
    decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
      requireLeafPath(path, 'text/plain');
      const type = modelType(ctx, path) ?? 'STRING';
      const where = formatPath(path);
      const value = parseValue(decodeUtf8(payload, where), type, opaque, where);
      return leafNode(path, type, value);
    },
    encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
      requireLeafPath(path, 'text/plain');
      checkNodeAtPath(node, path);
      const leaf = leafOf(node, path, 'text/plain');
      const where = formatPath(path);
      return Buffer.from(formatValue(leaf.value, encodeType(ctx, path, leaf.type), opaque, where), 'utf8');
    },
  };
}

/** The default text/plain codec (opaque as base64). */
export const textCodec: NodeCodec = createTextCodec();
