/**
 * Helpers shared by the single-path codecs (text, opaque, TLV, CBOR, LwM2M JSON): model lookups,
 * node/path consistency checks and the value rules of LwM2M-Core 1.1 Appendix C ("Data Types").
 * Everything thrown here is a CodecError naming the path concerned.
 */
import { isUtf8 } from 'node:buffer';
import { CodecError } from '../../common/errors';
import { formatPath, pathLevel, type LwM2mPath } from '../path';
import { resourceInstance, single, type LwM2mNode, type ResourceInstance, type SingleResource } from '../node';
import { isObjLink, type LwM2mValue, type ObjLink, type ResourceType } from '../value';
import type { ResourceModel } from '../model/types';
import type { CodecContext } from './types';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;
/** Largest |seconds| a JS Date can hold (ECMA-262 §21.4.1.1: ±8.64e15 ms). */
const MAX_DATE_SECONDS = 8.64e12;

export function fail(message: string, path: LwM2mPath | string): CodecError {
  return new CodecError(message, typeof path === 'string' ? path : formatPath(path));
}

/** The resource model for `objectId/resourceId`, honouring the object version the device announced. */
export function resourceModel(ctx: CodecContext, objectId: number, resourceId: number): ResourceModel | undefined {
  return ctx.model.getResource(objectId, resourceId, ctx.versions?.get(objectId));
}

/** Leaf path → the model's type (or undefined when the resource is unknown). */
export function modelType(ctx: CodecContext, path: LwM2mPath): ResourceType | undefined {
  if (path.objectId === undefined || path.resourceId === undefined) return undefined;
  return resourceModel(ctx, path.objectId, path.resourceId)?.type;
}

/** For single-value formats: the path must address a resource or a resource instance (LwM2M-Core 1.1 §7.4). */
export function requireLeafPath(path: LwM2mPath, format: string): void {
  const level = pathLevel(path);
  if (level !== 'resource' && level !== 'resourceInstance') {
    throw fail(`${format} carries a single resource value only, not a ${level} path`, path);
  }
}

const NODE_LEVEL: Record<LwM2mNode['kind'], string> = {
  object: 'object',
  instance: 'instance',
  resource: 'resource',
  multiResource: 'resource',
  resourceInstance: 'resourceInstance',
};

/** Why `node` is not what `path` addresses, or undefined when it is (kind and id). */
function nodePathMismatch(node: LwM2mNode, path: LwM2mPath, allowInstanceUnderObject: boolean): string | undefined {
  const level = pathLevel(path);
  if (allowInstanceUnderObject && level === 'object' && node.kind === 'instance') return undefined;
  if (NODE_LEVEL[node.kind] !== level) return `cannot encode a ${node.kind} node for a ${level} path`;
  const expected = [path.objectId, path.instanceId, path.resourceId, path.resourceInstanceId][LEVEL_INDEX[level]];
  return node.id === expected ? undefined : `node id ${node.id} does not match the path`;
}

const LEVEL_INDEX: Record<string, number> = { object: 0, instance: 1, resource: 2, resourceInstance: 3 };

/**
 * Checks that `node` is what `path` addresses. With `allowInstanceUnderObject`, an object instance
 * may also be encoded for an object path (the payload of a Create, LwM2M-Core 1.1 §6.3, "Create").
 */
export function checkNodeAtPath(node: LwM2mNode, path: LwM2mPath, allowInstanceUnderObject = false): void {
  const why = nodePathMismatch(node, path, allowInstanceUnderObject);
  if (why) throw fail(why, path);
}

/** `supports` of the tree formats (TLV, LwM2M JSON): every path but the root, with a node matching it. */
export function isTreeNodeSupported(path: LwM2mPath, node?: LwM2mNode): boolean {
  if (pathLevel(path) === 'root') return false;
  return !node || nodePathMismatch(node, path, true) === undefined;
}

export function isLeafNodeSupported(path: LwM2mPath, node?: LwM2mNode): boolean {
  const level = pathLevel(path);
  if (level !== 'resource' && level !== 'resourceInstance') return false;
  if (!node) return true;
  return level === 'resource' ? node.kind === 'resource' : node.kind === 'resourceInstance';
}

// ---- integers, time ---------------------------------------------------------------------------

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Range-checks an integer for INTEGER (signed 64-bit) or UNSIGNED_INTEGER (0..2^64-1), LwM2M-Core 1.1
 * Appendix C, and normalises it: number when within the safe range, bigint beyond. Safe numbers take
 * a fast path without bigint arithmetic.
 */
export function checkInteger(v: number | bigint, type: 'INTEGER' | 'UNSIGNED_INTEGER', where: string): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw fail(`${v} is not an integer`, where);
    if (Number.isSafeInteger(v)) {
      if (type === 'UNSIGNED_INTEGER' && v < 0) throw fail(`${v} is out of range for ${type}`, where);
      return v + 0; // -0 → 0
    }
    v = BigInt(v);
  }
  const ok = type === 'UNSIGNED_INTEGER' ? v >= 0n && v <= UINT64_MAX : v >= INT64_MIN && v <= INT64_MAX;
  if (!ok) throw fail(`${v} is out of range for ${type}`, where);
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

export function secondsToDate(seconds: number | bigint, where: string): Date {
  const s = Number(seconds);
  if (!Number.isFinite(s) || Math.abs(s) > MAX_DATE_SECONDS) throw fail(`time ${seconds} is out of range`, where);
  return new Date(s * 1000);
}

/** Wire time is whole seconds since the epoch (LwM2M-Core 1.1 Appendix C, Time). */
export function dateToSeconds(d: Date, where: string): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw fail('invalid Date', where);
  return Math.floor(ms / 1000);
}

// ---- Objlnk, base64, UTF-8 ---------------------------------------------------------------------

const OBJLNK_TEXT = /^(\d{1,5}):(\d{1,5})$/;

/** "oid:iid" (LwM2M-Core 1.1 Appendix C, Objlnk in text formats); each id 0..65535 (65535:65535 is the null link). */
export function parseObjlnk(text: string, where: string): ObjLink {
  const m = OBJLNK_TEXT.exec(text);
  const objectId = m ? Number(m[1]) : NaN;
  const instanceId = m ? Number(m[2]) : NaN;
  if (!(objectId <= 0xffff && instanceId <= 0xffff)) throw fail(`invalid Objlnk "${text}"`, where);
  return { objectId, instanceId };
}

export function formatObjlnk(l: ObjLink): string {
  return `${l.objectId}:${l.instanceId}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** RFC 4648 §4 base64 (classic alphabet); padding optional on input, always written on output. */
export function decodeBase64(text: string, where: string): Buffer {
  if (!BASE64.test(text)) throw fail('invalid base64 opaque value', where);
  return Buffer.from(text, 'base64');
}

/** Strict UTF-8 (LwM2M-Core 1.1 Appendix C, String): malformed sequences are an error, not U+FFFD. */
export function decodeUtf8(buf: Buffer, where: string): string {
  if (!isUtf8(buf)) throw fail('string value is not valid UTF-8', where);
  return buf.toString('utf8');
}

// ---- value coercion for encoders ----------------------------------------------------------------

function describe(v: LwM2mValue): string {
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (v instanceof Date) return 'Date';
  if (typeof v === 'object') return 'Objlnk';
  return typeof v;
}

/**
 * The value as the encoders expect it for `type`, or a CodecError. Integral numbers and bigints are
 * interchangeable; a TIME may also be given as integer seconds. Integers are range-checked.
 */
export function coerceValue(v: LwM2mValue, type: ResourceType, where: string): LwM2mValue {
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return checkInteger(v, type, where);
      break;
    case 'FLOAT':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      break;
    case 'TIME':
      if (v instanceof Date) return v;
      if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') return secondsToDate(v, where);
      break;
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      break;
    case 'STRING':
    case 'CORELNK':
      if (typeof v === 'string') return v;
      break;
    case 'OPAQUE':
      if (Buffer.isBuffer(v)) return v;
      break;
    case 'OBJLNK':
      if (isObjLink(v) && isU16(v.objectId) && isU16(v.instanceId)) return v;
      break;
    case 'NONE':
      throw fail('an executable resource (type NONE) has no value to encode', where);
  }
  throw fail(`a ${describe(v)} value cannot be encoded as ${type}`, where);
}

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/** Type to encode with: the model's when known (the device decodes by it), else the node's own. */
export function encodeType(ctx: CodecContext, path: LwM2mPath, nodeType: ResourceType): ResourceType {
  return modelType(ctx, path) ?? nodeType;
}

/** The node a single-value format decodes to: a resource or a resource instance, by path level. */
export function leafNode(path: LwM2mPath, type: ResourceType, value: LwM2mValue): SingleResource | ResourceInstance {
  return pathLevel(path) === 'resource' ? single(path.resourceId as number, type, value) : resourceInstance(path.resourceInstanceId as number, type, value);
}

/** The one value a single-value format can carry; a multiple-instance resource is refused. */
export function leafOf(node: LwM2mNode, path: LwM2mPath, format: string): SingleResource | ResourceInstance {
  if (node.kind !== 'resource' && node.kind !== 'resourceInstance') throw fail(`${format} cannot carry a multiple-instance resource`, path);
  return node;
}
