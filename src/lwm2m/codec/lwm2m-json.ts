/**
 * LwM2M JSON (Content-Format 11543, legacy 1543) records ↔ nodes, LwM2M-Core 1.0 §6.4.4 / 1.1 §7.4.4.
 *
 *   full path of an entry = bn + n   (e.g. "/3/0/" + "6/1"; a missing leading "/" is added)
 *   value                 = v (INTEGER, UNSIGNED_INTEGER, FLOAT, TIME as seconds) | bv (BOOLEAN)
 *                           | sv (STRING, CORELNK, OPAQUE as base64) | ov (OBJLNK "oid:iid")
 *   time of an entry      = bt + t, seconds since the epoch (both optional; neither = "now")
 *
 * Every entry must be a resource or resource instance under the request path. `decode` keeps the
 * newest value of each path; `decodeTimestamped` returns one node per distinct time, oldest first.
 * Encoding writes bn = the path down to the object instance ("/3/0/") and n relative to it.
 */
import { formatPath, MAX_ID, pathLevel, type LwM2mPath } from '../path';
import type { LwM2mNode, TimestampedNode } from '../node';
import type { LwM2mValue, ObjLink, ResourceType } from '../value';
import { ContentFormat, type CodecContext, type NodeCodec, type TimestampedCodec } from './types';
import {
  checkInteger,
  checkNodeAtPath,
  coerceValue,
  dateToSeconds,
  decodeBase64,
  decodeUtf8,
  fail,
  formatObjlnk,
  INT64_MAX,
  isTreeNodeSupported,
  parseObjlnk,
  resourceModel,
  secondsToDate,
} from './codec-common';
import { parseLwM2mJson, serializeLwM2mJson, type JsonEntry } from './lwm2m-json-records';
import { buildNode, leafPath, nodeLeaves, type Leaf } from './leaf-nodes';

export type JsonFormat = typeof ContentFormat.JSON | typeof ContentFormat.JSON_LEGACY;

interface TimedLeaf extends Leaf {
  /** Unix ms, or undefined for "now". */
  readonly timestamp: number | undefined;
  /** The leaf's path as a string ("/3/0/6/1"). */
  readonly key: string;
}

/**
 * bn + n → ids of a resource or resource instance under `path`, or a CodecError. Ids are decimal
 * without leading zeros (so each path has one spelling, usable as a map key) and at most MAX_ID.
 */
function resolveName(name: string, path: LwM2mPath, where: string): number[] {
  const ids: number[] = [];
  let i = name.charCodeAt(0) === 0x2f ? 1 : 0;
  let valid = false;
  while (ids.length < 4) {
    const start = i;
    let id = 0;
    for (let c = name.charCodeAt(i); c >= 0x30 && c <= 0x39; c = name.charCodeAt(++i)) id = id * 10 + c - 0x30;
    const digits = i - start;
    if (digits === 0 || digits > 5 || (digits > 1 && name.charCodeAt(start) === 0x30) || id > MAX_ID) break;
    ids.push(id);
    if (i === name.length) {
      valid = ids.length >= 3;
      break;
    }
    if (name.charCodeAt(i++) !== 0x2f) break;
  }
  if (!valid) throw fail(`entry name "${name}" is not a resource or resource instance path`, where);
  const inside =
    ids[0] === path.objectId &&
    (path.instanceId === undefined || ids[1] === path.instanceId) &&
    (path.resourceId === undefined || ids[2] === path.resourceId) &&
    (path.resourceInstanceId === undefined || ids[3] === path.resourceInstanceId);
  if (!inside) throw fail(`entry "${name}" lies outside the request path`, where);
  return ids;
}

function guessType(e: JsonEntry): ResourceType {
  if (e.v !== undefined) {
    if (!e.vInteger) return 'FLOAT';
    return typeof e.v === 'bigint' && e.v > INT64_MAX ? 'UNSIGNED_INTEGER' : 'INTEGER';
  }
  return e.sv !== undefined ? 'STRING' : e.bv !== undefined ? 'BOOLEAN' : 'OBJLNK';
}

function entryValue(e: JsonEntry, type: ResourceType, where: string): LwM2mValue {
  const { v } = e;
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
    case 'TIME':
      if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
        return type === 'TIME' ? secondsToDate(v, where) : checkInteger(v, type, where);
      }
      break;
    case 'FLOAT':
      if (v !== undefined) return Number(v);
      break;
    case 'BOOLEAN':
      if (e.bv !== undefined) return e.bv;
      break;
    case 'STRING':
    case 'CORELNK':
      if (e.sv !== undefined) return e.sv;
      break;
    case 'OPAQUE':
      if (e.sv !== undefined) return decodeBase64(e.sv, where);
      break;
    case 'OBJLNK':
      if (e.ov !== undefined) return parseObjlnk(e.ov, where);
      break;
    case 'NONE':
      throw fail('an executable resource (type NONE) has no value', where);
  }
  throw fail(`entry value does not fit ${type} (LwM2M-Core 1.1 §7.4.4: v, bv, sv or ov by type)`, where);
}

function readLeaves(payload: Buffer, path: LwM2mPath, ctx: CodecContext): TimedLeaf[] {
  const where = formatPath(path);
  if (pathLevel(path) === 'root') throw fail('LwM2M JSON cannot carry the root path', where);
  const doc = parseLwM2mJson(decodeUtf8(payload, where), where);
  const bn = doc.bn ?? '';
  const out: TimedLeaf[] = [];
  for (const e of doc.e) {
    const name = bn + (e.n ?? '');
    const ids = resolveName(name, path, where);
    // Ids are validated without leading zeros, so the name is the canonical path string.
    const key = name.charCodeAt(0) === 0x2f ? name : `/${name}`;
    const objectId = ids[0] as number;
    const resourceId = ids[2] as number;
    const type = resourceModel(ctx, objectId, resourceId)?.type ?? guessType(e);
    const value = entryValue(e, type, key);
    const timestamp = doc.bt !== undefined || e.t !== undefined ? Math.round(((doc.bt ?? 0) + (e.t ?? 0)) * 1000) : undefined;
    out.push({ objectId, instanceId: ids[1] as number, resourceId, resourceInstanceId: ids[3], type, value, timestamp, key });
  }
  return out;
}

/** "Now" sorts after every explicit time. */
const order = (t: number | undefined): number => (t === undefined ? Infinity : t);

function decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
  const newest = new Map<string, TimedLeaf>();
  for (const leaf of readLeaves(payload, path, ctx)) {
    const prev = newest.get(leaf.key);
    if (prev && order(prev.timestamp) === order(leaf.timestamp)) throw fail('duplicate value', leaf.key);
    if (!prev || order(prev.timestamp) < order(leaf.timestamp)) newest.set(leaf.key, leaf);
  }
  return buildNode(path, [...newest.values()], ctx);
}

function decodeTimestamped(payload: Buffer, path: LwM2mPath, ctx: CodecContext): TimestampedNode[] {
  const groups = new Map<number | undefined, Leaf[]>();
  for (const leaf of readLeaves(payload, path, ctx)) {
    const group = groups.get(leaf.timestamp);
    if (group) group.push(leaf);
    else groups.set(leaf.timestamp, [leaf]);
  }
  const times = [...groups.keys()].sort((a, b) => order(a) - order(b));
  return times.map((t) => {
    const node = buildNode(path, groups.get(t) as Leaf[], ctx);
    return t === undefined ? { node } : { timestamp: t, node };
  });
}

function entryFor(leaf: Leaf, type: ResourceType, n: string, bn: string): JsonEntry {
  const where = bn + n;
  const v = coerceValue(leaf.value, type, where);
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      return { n, v: v as number | bigint };
    case 'FLOAT':
      if (!Number.isFinite(v)) throw fail(`FLOAT ${String(v)} has no JSON representation`, where);
      return { n, v: v as number };
    case 'TIME':
      return { n, v: dateToSeconds(v as Date, where) };
    case 'BOOLEAN':
      return { n, bv: v as boolean };
    case 'OPAQUE':
      return { n, sv: (v as Buffer).toString('base64') };
    case 'OBJLNK':
      return { n, ov: formatObjlnk(v as ObjLink) };
    default:
      return { n, sv: v as string }; // STRING, CORELNK
  }
}

function encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
  const where = formatPath(path);
  if (pathLevel(path) === 'root') throw fail('LwM2M JSON cannot carry the root path', where);
  checkNodeAtPath(node, path, true);
  // bn down to the object instance when the path has one (as in the §7.4.4 examples), else the object.
  const oid = path.objectId as number;
  const underInstance = path.instanceId !== undefined;
  const bn = underInstance ? `/${oid}/${path.instanceId as number}/` : `/${oid}/`;
  const e: JsonEntry[] = [];
  for (const leaf of nodeLeaves(node, path)) {
    const riid = leaf.resourceInstanceId;
    const rel = underInstance ? `${leaf.resourceId}` : `${leaf.instanceId}/${leaf.resourceId}`;
    const n = riid === undefined ? rel : `${rel}/${riid}`;
    const model = resourceModel(ctx, oid, leaf.resourceId);
    if (model && model.multiple !== (riid !== undefined)) {
      throw fail(`the model says this resource is ${model.multiple ? 'multiple' : 'single'}-instance`, leafPath(leaf));
    }
    e.push(entryFor(leaf, model?.type ?? leaf.type, n, bn));
  }
  return Buffer.from(serializeLwM2mJson({ bn, e }), 'utf8');
}

export function createLwM2mJsonCodec(format: JsonFormat = ContentFormat.JSON): NodeCodec & TimestampedCodec {
  return {
    format,
    supports: isTreeNodeSupported,
    decode,
    encode,
    decodeTimestamped,
  };
}

export const lwm2mJsonCodec = createLwM2mJsonCodec(ContentFormat.JSON);
export const lwm2mJsonLegacyCodec = createLwM2mJsonCodec(ContentFormat.JSON_LEGACY);
