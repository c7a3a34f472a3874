/**
 * OMA TLV (Content-Format 11542, legacy 1542) records ↔ nodes, LwM2M-Core 1.0 §6.4.3 / 1.1 §7.4.3.
 *
 *   object path            Object Instance TLV*  (each holding Resource / Multiple Resource TLVs)
 *   instance path          Resource TLV*, or one Object Instance TLV (same id) wrapping them
 *   resource path          one Resource TLV, one Multiple Resource TLV, or Resource Instance TLV*
 *   resource instance path one Resource Instance TLV (or a Multiple Resource TLV holding just it)
 *
 * Value types come from the object model; a resource the model does not know decodes as OPAQUE.
 * Encoding writes the forms of the §7.4.3 examples (an instance path gets bare Resource TLVs).
 */
import { formatPath, MAX_ID, pathLevel, type LwM2mPath } from '../path';
import type { LwM2mNode, LwM2mObject, ObjectInstance, Resource, ResourceInstance } from '../node';
import type { LwM2mValue, ResourceType } from '../value';
import { ContentFormat, type CodecContext, type NodeCodec } from './types';
import { checkNodeAtPath, fail, isTreeNodeSupported, resourceModel } from './codec-common';
import { decodeTlv, encodeTlv, KIND_NAME, TlvKind, type TlvRecord } from './tlv-records';
import { decodeTlvValue, encodeTlvValue } from './tlv-values';

export type TlvFormat = typeof ContentFormat.TLV | typeof ContentFormat.TLV_LEGACY;

function checkId(id: number, where: string): number {
  // LwM2M-Core 1.1 §7.1: 65535 is reserved and never a valid id.
  if (id > MAX_ID) throw fail(`TLV identifier ${id} is reserved`, where);
  return id;
}

// ---- decoding ----------------------------------------------------------------------------------

function decodeResource(r: TlvRecord, oid: number, base: string, ctx: CodecContext): Resource {
  const rid = checkId(r.id, base);
  const where = `${base}/${rid}`;
  const model = resourceModel(ctx, oid, rid);
  const type: ResourceType = model?.type ?? 'OPAQUE';
  if (r.kind === TlvKind.RESOURCE_VALUE) {
    if (model?.multiple)
      throw fail('the model says this resource is multiple-instance, the TLV is a single value', where);
    return { kind: 'resource', id: rid, type, value: decodeTlvValue(r.value as Buffer, type, where) };
  }
  if (r.kind !== TlvKind.MULTIPLE_RESOURCE)
    throw fail(`expected a resource TLV, got a ${KIND_NAME[r.kind]} TLV`, where);
  if (model && !model.multiple)
    throw fail('the model says this resource is single-instance, the TLV is multiple', where);
  return { kind: 'multiResource', id: rid, type, instances: decodeResourceInstances(r.children ?? [], type, where) };
}

function decodeResourceInstances(
  records: readonly TlvRecord[],
  type: ResourceType,
  where: string,
): Map<number, LwM2mValue> {
  const values = new Map<number, LwM2mValue>();
  for (const ri of records) {
    if (ri.kind !== TlvKind.RESOURCE_INSTANCE)
      throw fail(`expected resource instance TLVs, got a ${KIND_NAME[ri.kind]} TLV`, where);
    const riid = checkId(ri.id, where);
    if (values.has(riid)) throw fail(`duplicate resource instance ${riid}`, where);
    values.set(riid, decodeTlvValue(ri.value as Buffer, type, `${where}/${riid}`));
  }
  return values;
}

function decodeInstance(records: readonly TlvRecord[], oid: number, iid: number, ctx: CodecContext): ObjectInstance {
  const base = `/${oid}/${iid}`;
  const resources = new Map<number, Resource>();
  for (const r of records) {
    const res = decodeResource(r, oid, base, ctx);
    if (resources.has(res.id)) throw fail(`duplicate resource ${res.id}`, base);
    resources.set(res.id, res);
  }
  return { kind: 'instance', id: iid, resources };
}

function decodeObject(records: readonly TlvRecord[], oid: number, ctx: CodecContext): LwM2mObject {
  const instances = new Map<number, ObjectInstance>();
  const wrapped = records.filter((r) => r.kind === TlvKind.OBJECT_INSTANCE).length;
  if (wrapped === 0 && records.length > 0) {
    // Lenient: some clients omit the Object Instance TLV for a single-instance object; it is instance 0.
    instances.set(0, decodeInstance(records, oid, 0, ctx));
  } else if (wrapped !== records.length) {
    throw fail('an object payload mixes object instance TLVs with other TLVs', `/${oid}`);
  } else {
    for (const r of records) {
      const iid = checkId(r.id, `/${oid}`);
      if (instances.has(iid)) throw fail(`duplicate object instance ${iid}`, `/${oid}`);
      instances.set(iid, decodeInstance(r.children ?? [], oid, iid, ctx));
    }
  }
  return { kind: 'object', id: oid, instances };
}

/** An Object Instance TLV wrapping the content of an instance (or deeper) path is accepted when its id matches. */
function unwrapInstance(records: readonly TlvRecord[], iid: number, where: string): readonly TlvRecord[] {
  const first = records[0];
  if (records.length !== 1 || first?.kind !== TlvKind.OBJECT_INSTANCE) return records;
  if (first.id !== iid) throw fail(`payload is object instance ${first.id}, not ${iid}`, where);
  return first.children ?? [];
}

function decodeAtResource(
  records: readonly TlvRecord[],
  path: Required<Omit<LwM2mPath, 'resourceInstanceId'>>,
  ctx: CodecContext,
): Resource {
  const where = formatPath(path);
  const { objectId: oid, resourceId: rid } = path;
  const inner = unwrapInstance(records, path.instanceId, where);
  const first = inner[0];
  if (inner.length === 1 && first && first.kind !== TlvKind.RESOURCE_INSTANCE) {
    if (first.id !== rid) throw fail(`payload is resource ${first.id}, not ${rid}`, where);
    return decodeResource(first, oid, `/${oid}/${path.instanceId}`, ctx);
  }
  // A bare list of Resource Instance TLVs (possibly empty): a multiple-instance resource.
  const model = resourceModel(ctx, oid, rid);
  if (model && !model.multiple) throw fail('expected one resource TLV for a single-instance resource', where);
  const type: ResourceType = model?.type ?? 'OPAQUE';
  return { kind: 'multiResource', id: rid, type, instances: decodeResourceInstances(inner, type, where) };
}

function decodeAtResourceInstance(
  records: readonly TlvRecord[],
  path: Required<LwM2mPath>,
  ctx: CodecContext,
): ResourceInstance {
  const where = formatPath(path);
  const model = resourceModel(ctx, path.objectId, path.resourceId);
  if (model && !model.multiple) throw fail('a single-instance resource has no resource instances', where);
  let r = records.length === 1 ? records[0] : undefined;
  if (r?.kind === TlvKind.MULTIPLE_RESOURCE && r.id === path.resourceId && r.children?.length === 1) r = r.children[0];
  if (r?.kind !== TlvKind.RESOURCE_INSTANCE) throw fail('expected exactly one resource instance TLV', where);
  if (r.id !== path.resourceInstanceId)
    throw fail(`payload is resource instance ${r.id}, not ${path.resourceInstanceId}`, where);
  const type: ResourceType = model?.type ?? 'OPAQUE';
  return { kind: 'resourceInstance', id: r.id, type, value: decodeTlvValue(r.value as Buffer, type, where) };
}

// ---- encoding ----------------------------------------------------------------------------------

function resourceRecord(res: Resource, oid: number, base: string, ctx: CodecContext): TlvRecord {
  const where = `${base}/${res.id}`;
  const model = resourceModel(ctx, oid, res.id);
  const type = model?.type ?? res.type;
  if (res.kind === 'resource') {
    if (model?.multiple) throw fail('the model says this resource is multiple-instance', where);
    return { kind: TlvKind.RESOURCE_VALUE, id: res.id, value: encodeTlvValue(res.value, type, where) };
  }
  if (model && !model.multiple) throw fail('the model says this resource is single-instance', where);
  const children: TlvRecord[] = [];
  for (const [riid, v] of res.instances) {
    children.push({ kind: TlvKind.RESOURCE_INSTANCE, id: riid, value: encodeTlvValue(v, type, `${where}/${riid}`) });
  }
  return { kind: TlvKind.MULTIPLE_RESOURCE, id: res.id, children };
}

function instanceRecords(inst: ObjectInstance, oid: number, ctx: CodecContext): TlvRecord[] {
  const base = `/${oid}/${inst.id}`;
  const out: TlvRecord[] = [];
  for (const res of inst.resources.values()) out.push(resourceRecord(res, oid, base, ctx));
  return out;
}

function encodeRecords(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): TlvRecord[] {
  const oid = path.objectId as number;
  switch (node.kind) {
    case 'object':
      return [...node.instances.values()].map((i) => ({
        kind: TlvKind.OBJECT_INSTANCE,
        id: i.id,
        children: instanceRecords(i, oid, ctx),
      }));
    case 'instance':
      // Instance path: bare resources (§7.4.3 examples). Object path (Create): wrapped in its instance TLV.
      return path.instanceId === undefined
        ? [{ kind: TlvKind.OBJECT_INSTANCE, id: node.id, children: instanceRecords(node, oid, ctx) }]
        : instanceRecords(node, oid, ctx);
    case 'resource':
    case 'multiResource':
      return [resourceRecord(node, oid, `/${oid}/${path.instanceId as number}`, ctx)];
    case 'resourceInstance': {
      const where = formatPath(path);
      const model = resourceModel(ctx, oid, path.resourceId as number);
      const value = encodeTlvValue(node.value, model?.type ?? node.type, where);
      return [{ kind: TlvKind.RESOURCE_INSTANCE, id: node.id, value }];
    }
  }
}

// ---- codec -------------------------------------------------------------------------------------

export function createTlvCodec(format: TlvFormat = ContentFormat.TLV): NodeCodec {
  return {
    format,
    supports: isTreeNodeSupported,
    decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
      const where = formatPath(path);
      const level = pathLevel(path);
      if (level === 'root') throw fail('TLV cannot carry the root path', where);
      const records = decodeTlv(payload, where);
      const oid = path.objectId as number;
      switch (level) {
        case 'object':
          return decodeObject(records, oid, ctx);
        case 'instance': {
          const iid = path.instanceId as number;
          const inner = unwrapInstance(records, iid, where);
          if (inner.some((r) => r.kind === TlvKind.OBJECT_INSTANCE))
            throw fail('unexpected object instance TLV', where);
          return decodeInstance(inner, oid, iid, ctx);
        }
        case 'resource':
          return decodeAtResource(records, path as Required<Omit<LwM2mPath, 'resourceInstanceId'>>, ctx);
        case 'resourceInstance':
          return decodeAtResourceInstance(records, path as Required<LwM2mPath>, ctx);
      }
    },
    encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
      const where = formatPath(path);
      if (pathLevel(path) === 'root') throw fail('TLV cannot carry the root path', where);
      checkNodeAtPath(node, path, true);
      return encodeTlv(encodeRecords(node, path, ctx), where);
    },
  };
}

export const tlvCodec: NodeCodec = createTlvCodec(ContentFormat.TLV);
export const tlvLegacyCodec: NodeCodec = createTlvCodec(ContentFormat.TLV_LEGACY);
