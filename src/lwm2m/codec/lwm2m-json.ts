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
import { formatIds, formatPath, MAX_ID, pathLevel, type LwM2mPath } from '../path';
import type { LwM2mNode, TimestampedNode } from '../node';
import type { LwM2mValue, Objlnk, ResourceType } from '../value';
import { ContentFormat, type CodecContext, type NodeCodec, type TimestampedCodec } from './types';
import { fail, isTreeNodeSupported, resourceModel } from './codec-common';
import {
  coerceValue,
  dateToSeconds,
  decodeBase64,
  decodeUtf8,
  formatObjlnk,
  integerType,
  parseObjlnk,
  typedValue,
} from './value-rules';
import { parseLwM2mJson, serializeLwM2mJson, type JsonEntry } from './lwm2m-json-records';
import { buildNodeFromLeaves, nodeLeaves, type Leaf } from './leaf-nodes';

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
    return integerType(e.v);
  }
  return e.sv !== undefined ? 'STRING' : e.bv !== undefined ? 'BOOLEAN' : 'OBJLNK';
}

/** The entry's value field for `type` (v, bv, sv or ov), or undefined when the entry has another. */
function entryField(e: JsonEntry, type: ResourceType, where: string): LwM2mValue | undefined {
  switch (type) {
    case 'OPAQUE':
      return e.sv === undefined ? undefined : decodeBase64(e.sv, where);
    case 'OBJLNK':
      return e.ov === undefined ? undefined : parseObjlnk(e.ov, where);
    case 'BOOLEAN':
      return typedValue(e.bv, type, where);
    case 'STRING':
    case 'CORELNK':
      return typedValue(e.sv, type, where);
    default:
      return typedValue(e.v, type, where); // INTEGER, UNSIGNED_INTEGER, FLOAT, TIME (NONE throws)
  }
}

function entryValue(e: JsonEntry, type: ResourceType, where: string): LwM2mValue {
  const value = entryField(e, type, where);
  if (value === undefined)
    throw fail(`entry value does not fit ${type} (LwM2M-Core 1.1 §7.4.4: v, bv, sv or ov by type)`, where);
  return value;
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
    const type = resourceModel(ctx, ids[0] as number, ids[2] as number)?.type ?? guessType(e);
    const value = entryValue(e, type, key);
    const timestamp =
      doc.bt !== undefined || e.t !== undefined ? Math.round(((doc.bt ?? 0) + (e.t ?? 0)) * 1000) : undefined;
    out.push({ ids, type, value, timestamp, key });
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
  return buildNodeFromLeaves(path, [...newest.values()], ctx);
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
    const node = buildNodeFromLeaves(path, groups.get(t) as Leaf[], ctx);
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
      return { n, ov: formatObjlnk(v as Objlnk) };
    default:
      return { n, sv: v as string }; // STRING, CORELNK
  }
}

function encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
  const where = formatPath(path);
  if (pathLevel(path) === 'root') throw fail('LwM2M JSON cannot carry the root path', where);
  // bn down to the object instance when the path has one (as in the §7.4.4 examples), else the object.
  const oid = path.objectId as number;
  const underInstance = path.instanceId !== undefined;
  const bn = underInstance ? `/${oid}/${path.instanceId as number}/` : `/${oid}/`;
  const e: JsonEntry[] = [];
  for (const leaf of nodeLeaves(node, path)) {
    const [, iid, rid, riid] = leaf.ids as [number, number, number, number?];
    const rel = underInstance ? `${rid}` : `${iid}/${rid}`;
    const n = riid === undefined ? rel : `${rel}/${riid}`;
    const model = resourceModel(ctx, oid, rid);
    if (model && model.multiple !== (riid !== undefined)) {
      throw fail(
        `the model says this resource is ${model.multiple ? 'multiple' : 'single'}-instance`,
        formatIds(leaf.ids),
      );
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
