/**
 * Nodes ↔ flat leaves, for the formats that list values by full path (LwM2M JSON, SenML JSON/CBOR,
 * LwM2M CBOR; LwM2M-Core 1.1 §7.4.4-§7.4.6, 1.2 §7.4.7). A leaf is one value at /oid/iid/rid or
 * /oid/iid/rid/riid. When building a node, whether a resource is multiple-instance comes from the
 * model, else from the leaves themselves (a resource instance id means multiple).
 */
import { formatIds, pathIds, pathLevel, type LwM2mPath } from '../path';
import type { LwM2mNode, ObjectInstance, Resource } from '../node';
import type { LwM2mValue, ResourceType } from '../value';
import type { CodecContext } from './types';
import { checkNodeAtPath, fail, resourceModel } from './codec-common';

export interface Leaf {
  /** Path ids from the root: [oid, iid, rid] or [oid, iid, rid, riid]. */
  readonly ids: readonly number[];
  readonly type: ResourceType;
  readonly value: LwM2mValue;
}

function instanceLeaves(oid: number, inst: ObjectInstance, out: Leaf[]): void {
  for (const res of inst.resources.values()) resourceLeaves([oid, inst.id], res, out);
}

function resourceLeaves(parent: readonly number[], res: Resource, out: Leaf[]): void {
  if (res.kind === 'resource') out.push({ ids: [...parent, res.id], type: res.type, value: res.value });
  else for (const [riid, value] of res.instances) out.push({ ids: [...parent, res.id, riid], type: res.type, value });
}

/**
 * The leaves of `node`, which must be the node `path` addresses (kind and id). An object instance is
 * also accepted for an object path: the payload of a Create (LwM2M-Core 1.1 §6.3.6).
 */
export function nodeLeaves(node: LwM2mNode, path: LwM2mPath): Leaf[] {
  checkNodeAtPath(node, path, true);
  const ids = pathIds(path);
  const oid = ids[0] as number;
  const out: Leaf[] = [];
  switch (node.kind) {
    case 'object':
      for (const inst of node.instances.values()) instanceLeaves(oid, inst, out);
      break;
    case 'instance':
      instanceLeaves(oid, node, out);
      break;
    case 'resource':
    case 'multiResource':
      resourceLeaves(ids.slice(0, 2), node, out);
      break;
    case 'resourceInstance':
      out.push({ ids, type: node.type, value: node.value });
  }
  return out;
}

type Draft = { type: ResourceType; single?: LwM2mValue; instances?: Map<number, LwM2mValue> };

/**
 * Builds the node that `path` addresses from typed leaves that all lie below it (callers check that).
 * Duplicate values for one path, or a mix of single and multiple forms, are CodecErrors.
 */
export function buildNodeFromLeaves(path: LwM2mPath, leaves: readonly Leaf[], ctx: CodecContext): LwM2mNode {
  const oid = path.objectId as number;
  const tree = new Map<number, Map<number, Draft>>();
  for (const l of leaves) {
    const [, iid, rid, riid] = l.ids as [number, number, number, number?];
    const model = resourceModel(ctx, oid, rid);
    const multiple = model ? model.multiple : riid !== undefined;
    if (multiple !== (riid !== undefined)) {
      throw fail(
        multiple
          ? 'a multiple-instance resource needs resource instance ids'
          : 'a single-instance resource has no resource instances',
        formatIds(l.ids),
      );
    }
    let inst = tree.get(iid);
    if (!inst) tree.set(iid, (inst = new Map()));
    let draft = inst.get(rid);
    if (!draft) inst.set(rid, (draft = multiple ? { type: l.type, instances: new Map() } : { type: l.type }));
    if (draft.instances && riid !== undefined && !draft.instances.has(riid)) {
      draft.instances.set(riid, l.value);
    } else if (!draft.instances && draft.single === undefined) {
      draft.single = l.value;
    } else {
      throw fail('duplicate value', formatIds(l.ids));
    }
  }
  return shape(path, tree, ctx);
}

function toResource(id: number, d: Draft): Resource {
  return d.instances
    ? { kind: 'multiResource', id, type: d.type, instances: d.instances }
    : { kind: 'resource', id, type: d.type, value: d.single as LwM2mValue };
}

function toInstance(id: number, drafts: Map<number, Draft> | undefined): ObjectInstance {
  const resources = new Map<number, Resource>();
  if (drafts) for (const [rid, d] of drafts) resources.set(rid, toResource(rid, d));
  return { kind: 'instance', id, resources };
}

function shape(path: LwM2mPath, tree: Map<number, Map<number, Draft>>, ctx: CodecContext): LwM2mNode {
  const oid = path.objectId as number;
  const level = pathLevel(path);
  if (level === 'object') {
    const instances = new Map<number, ObjectInstance>();
    for (const [iid, drafts] of tree) instances.set(iid, toInstance(iid, drafts));
    return { kind: 'object', id: oid, instances };
  }
  const inst = tree.get(path.instanceId as number);
  if (level === 'instance') return toInstance(path.instanceId as number, inst);
  const rid = path.resourceId as number;
  const draft = inst?.get(rid);
  if (level === 'resource') {
    if (draft) return toResource(rid, draft);
    const model = resourceModel(ctx, oid, rid);
    if (model?.multiple) return { kind: 'multiResource', id: rid, type: model.type, instances: new Map() };
    throw fail('no value for the resource', path);
  }
  const riid = path.resourceInstanceId as number;
  const value = draft?.instances?.get(riid);
  if (!draft || value === undefined) throw fail('no value for the resource instance', path);
  return { kind: 'resourceInstance', id: riid, type: draft.type, value };
}
