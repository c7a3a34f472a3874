/**
 * Flat leaves ↔ node tree, for the formats that list values by full path (LwM2M JSON).
 * A leaf is one value at /oid/iid/rid or /oid/iid/rid/riid. Whether a resource is multiple-instance
 * comes from the model, else from the leaves themselves (a resource instance id means multiple).
 */
import { formatPath, pathLevel, type LwM2mPath } from '../path';
import type { LwM2mNode, ObjectInstance, Resource } from '../node';
import type { LwM2mValue, ResourceType } from '../value';
import type { CodecContext } from './types';
import { fail, resourceModel } from './codec-common';

export interface Leaf {
  readonly objectId: number;
  readonly instanceId: number;
  readonly resourceId: number;
  readonly resourceInstanceId?: number;
  readonly type: ResourceType;
  readonly value: LwM2mValue;
}

export function leafPath(l: Leaf): string {
  const base = `/${l.objectId}/${l.instanceId}/${l.resourceId}`;
  return l.resourceInstanceId === undefined ? base : `${base}/${l.resourceInstanceId}`;
}

type Draft = { type: ResourceType; single?: LwM2mValue; instances?: Map<number, LwM2mValue> };

/**
 * Builds the node that `path` addresses from leaves that all lie below it (callers check that).
 * Duplicate values for one path, or a mix of single and multiple forms, are CodecErrors.
 */
export function buildNode(path: LwM2mPath, leaves: readonly Leaf[], ctx: CodecContext): LwM2mNode {
  const tree = new Map<number, Map<number, Draft>>();
  for (const l of leaves) {
    const model = resourceModel(ctx, l.objectId, l.resourceId);
    const multiple = model ? model.multiple : l.resourceInstanceId !== undefined;
    if (multiple !== (l.resourceInstanceId !== undefined)) {
      throw fail(multiple ? 'a multiple-instance resource needs resource instance ids' : 'a single-instance resource has no resource instances', leafPath(l));
    }
    let inst = tree.get(l.instanceId);
    if (!inst) tree.set(l.instanceId, (inst = new Map()));
    let draft = inst.get(l.resourceId);
    if (!draft) inst.set(l.resourceId, (draft = multiple ? { type: l.type, instances: new Map() } : { type: l.type }));
    if (draft.instances && l.resourceInstanceId !== undefined && !draft.instances.has(l.resourceInstanceId)) {
      draft.instances.set(l.resourceInstanceId, l.value);
    } else if (!draft.instances && draft.single === undefined) {
      draft.single = l.value;
    } else {
      throw fail('duplicate value', leafPath(l));
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
  if (!draft || value === undefined) throw fail('no value for the resource instance', formatPath(path));
  return { kind: 'resourceInstance', id: riid, type: draft.type, value };
}

/** The leaves of a node that `path` addresses (the inverse of buildNode). */
export function nodeLeaves(node: LwM2mNode, path: LwM2mPath): Leaf[] {
  const out: Leaf[] = [];
  const oid = path.objectId as number;
  const addResource = (iid: number, r: Resource): void => {
    if (r.kind === 'resource') {
      out.push({ objectId: oid, instanceId: iid, resourceId: r.id, type: r.type, value: r.value });
      return;
    }
    for (const [riid, value] of r.instances) {
      out.push({ objectId: oid, instanceId: iid, resourceId: r.id, resourceInstanceId: riid, type: r.type, value });
    }
  };
  const addInstance = (i: ObjectInstance): void => {
    for (const r of i.resources.values()) addResource(i.id, r);
  };
  switch (node.kind) {
    case 'object':
      for (const i of node.instances.values()) addInstance(i);
      break;
    case 'instance':
      addInstance(node);
      break;
    case 'resource':
    case 'multiResource':
      addResource(path.instanceId as number, node);
      break;
    case 'resourceInstance':
      out.push({
        objectId: oid,
        instanceId: path.instanceId as number,
        resourceId: path.resourceId as number,
        resourceInstanceId: node.id,
        type: node.type,
        value: node.value,
      });
  }
  return out;
}
