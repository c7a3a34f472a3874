/**
 * Resolved records → LwM2M nodes, typed by the object model; shared by SenML JSON, SenML CBOR and
 * LwM2M CBOR. Each record is one leaf: a resource (/oid/iid/rid) or a resource instance
 * (/oid/iid/rid/riid) value (LwM2M-Core 1.1 §7.4.5). Resources unknown to the model are typed from
 * the value kind; they are multi-instance when a record names a resource instance.
 */
import { CodecError } from '../../../common/errors';
import type { LwM2mNode, ObjectInstance, Resource } from '../../node';
import type { LwM2mValue, ResourceType } from '../../value';
import type { ResourceModel } from '../../model/types';
import { formatIds } from '../../path';
import { resourceModel } from '../codec-common';
import type { CodecContext } from '../types';
import type { ResolvedRecord } from './record';
import { inferType, toLwM2mValue } from './values';

function under(ids: readonly number[], prefix: readonly number[]): boolean {
  if (ids.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

/**
 * The model type, or one inferred from the records: Float when any number is not integral, else
 * Unsigned Integer when any is beyond the signed 64-bit range.
 */
function typeOf(m: ResourceModel | undefined, records: readonly ResolvedRecord[]): ResourceType {
  if (m) {
    if (m.type === 'NONE') throw new CodecError('an executable resource (type NONE) has no value', records[0]?.name);
    return m.type;
  }
  const first = records[0] as ResolvedRecord;
  let type = inferType(first.kind ?? 'vs', first.value ?? '');
  if (type !== 'INTEGER' && type !== 'UNSIGNED_INTEGER') return type;
  for (const r of records) {
    const t: ResourceType = r.kind === 'v' ? inferType('v', r.value ?? 0) : type;
    if (t === 'FLOAT') return t;
    if (t === 'UNSIGNED_INTEGER') type = t;
  }
  return type;
}

function valueOf(type: ResourceType, r: ResolvedRecord): LwM2mValue {
  if (r.kind === undefined || r.value === undefined) throw new CodecError('SenML record has no value', r.name);
  return toLwM2mValue(type, r.kind, r.value, r.name);
}

/** One resource from its records, all named /oid/iid/rid or /oid/iid/rid/riid. */
function buildResource(ctx: CodecContext, oid: number, rid: number, records: readonly ResolvedRecord[]): Resource {
  const m = resourceModel(ctx, oid, rid);
  const type = typeOf(m, records);
  let multiple = m?.multiple;
  if (multiple === undefined) multiple = records.some((r) => r.ids.length === 4);
  if (multiple) {
    const instances = new Map<number, LwM2mValue>();
    for (const r of records) {
      const riid = r.ids[3];
      if (riid === undefined)
        throw new CodecError('a multiple-instance resource needs resource instance names', r.name);
      if (instances.has(riid)) throw new CodecError('duplicate SenML record', r.name);
      instances.set(riid, valueOf(type, r));
    }
    return { kind: 'multiResource', id: rid, type, instances };
  }
  const r = records[0] as ResolvedRecord;
  if (r.ids.length === 4) throw new CodecError('a single-instance resource has no resource instances', r.name);
  if (records.length > 1) throw new CodecError('duplicate SenML record', (records[1] as ResolvedRecord).name);
  return { kind: 'resource', id: rid, type, value: valueOf(type, r) };
}

/** Groups records by the path id at `level` (0: object, 1: instance, 2: resource). */
function groupBy(records: readonly ResolvedRecord[], level: number): Map<number, ResolvedRecord[]> {
  const groups = new Map<number, ResolvedRecord[]>();
  for (const r of records) {
    const id = r.ids[level] as number;
    const g = groups.get(id);
    if (g) g.push(r);
    else groups.set(id, [r]);
  }
  return groups;
}

function buildInstance(
  ctx: CodecContext,
  oid: number,
  iid: number,
  records: readonly ResolvedRecord[],
): ObjectInstance {
  const resources = new Map<number, Resource>();
  for (const [rid, group] of groupBy(records, 2)) resources.set(rid, buildResource(ctx, oid, rid, group));
  return { kind: 'instance', id: iid, resources };
}

/**
 * The node at `target` (path ids, 1 to 4 of them) from records that must all lie below it and
 * carry values (LwM2M-Core 1.1 §7.4.5: Read/Write payloads of one path).
 */
export function buildNodeFromRecords(
  records: readonly ResolvedRecord[],
  target: readonly number[],
  ctx: CodecContext,
): LwM2mNode {
  const where = formatIds(target);
  if (target.length === 0) throw new CodecError('a single node cannot be decoded for the root path', where);
  for (const r of records) {
    if (!under(r.ids, target)) throw new CodecError(`SenML record lies outside the target path ${where}`, r.name);
    if (r.ids.length < 3) throw new CodecError('SenML values must name a resource or resource instance', r.name);
    if (r.kind === undefined) throw new CodecError('SenML record has no value', r.name);
  }
  const [oid, iid, rid, riid] = target as [number, number?, number?, number?];
  if (riid !== undefined && rid !== undefined) {
    const r = records[0];
    if (!r) throw new CodecError('no value for the resource instance', where);
    if (records.length > 1) throw new CodecError('duplicate SenML record', (records[1] as ResolvedRecord).name);
    const m = resourceModel(ctx, oid, rid);
    if (m && !m.multiple) throw new CodecError('a single-instance resource has no resource instances', where);
    const type = typeOf(m, records);
    return { kind: 'resourceInstance', id: riid, type, value: valueOf(type, r) };
  }
  if (rid !== undefined && iid !== undefined) {
    if (records.length === 0) throw new CodecError('no value for the resource', where);
    return buildResource(ctx, oid, rid, records);
  }
  if (iid !== undefined) return buildInstance(ctx, oid, iid, records);
  const instances = new Map<number, ObjectInstance>();
  for (const [id, group] of groupBy(records, 1)) instances.set(id, buildInstance(ctx, oid, id, group));
  return { kind: 'object', id: oid, instances };
}

/**
 * Composite content keyed by path. With `paths`, each requested path gets the node built from the
 * records below it, or null when there are none (Read-Composite, Observe-Composite). Without, each
 * record is its own entry: a resource or resource-instance node, or null for a record without a
 * value (Write-Composite removal, Send). A path repeated in the pack keeps its latest record.
 */
export function buildComposite(
  records: readonly ResolvedRecord[],
  paths: readonly (readonly number[])[] | null,
  ctx: CodecContext,
): Map<string, LwM2mNode | null> {
  const out = new Map<string, LwM2mNode | null>();
  if (paths) {
    const used = new Uint8Array(records.length);
    for (const target of paths) {
      const subset: ResolvedRecord[] = [];
      for (let i = 0; i < records.length; i++) {
        const r = records[i] as ResolvedRecord;
        if (r.kind === undefined || !under(r.ids, target)) continue;
        subset.push(r);
        used[i] = 1;
      }
      out.set(formatIds(target), subset.length > 0 ? buildNodeFromRecords(subset, target, ctx) : null);
    }
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as ResolvedRecord;
      if (used[i] === 0 && r.kind !== undefined)
        throw new CodecError('SenML record lies outside the requested paths', r.name);
    }
    return out;
  }
  const times = new Map<string, number>();
  for (const r of records) {
    if (r.ids.length === 0) throw new CodecError('a composite entry cannot name the root path', r.name);
    // A record without time is "now", newer than any timed one (RFC 8428 §4.5.3).
    const time = r.time ?? Infinity;
    const previous = times.get(r.name);
    if (previous !== undefined && time < previous) continue;
    times.set(r.name, time);
    if (r.kind === undefined) {
      out.set(r.name, null);
      continue;
    }
    const target = r.ids.length >= 3 ? r.ids : undefined;
    if (!target) throw new CodecError('SenML values must name a resource or resource instance', r.name);
    out.set(
      r.name,
      r.ids.length === 4
        ? buildNodeFromRecords([r], target, ctx)
        : buildResource(ctx, target[0] as number, target[2] as number, [r]),
    );
  }
  return out;
}

/** Records grouped by resolved time, in order of first appearance (Send, LwM2M-Core 1.1 §6.4). */
export function groupByTime(records: readonly ResolvedRecord[]): Map<number | undefined, ResolvedRecord[]> {
  const groups = new Map<number | undefined, ResolvedRecord[]>();
  for (const r of records) {
    const g = groups.get(r.time);
    if (g) g.push(r);
    else groups.set(r.time, [r]);
  }
  return groups;
}
