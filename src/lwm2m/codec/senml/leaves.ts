/**
 * LwM2M nodes → leaves (one per resource or resource-instance value), the common input of the
 * SenML and LwM2M CBOR encoders, and leaves → SenML raw records.
 */
import { CodecError } from '../../../common/errors';
import type { LwM2mNode, ObjectInstance } from '../../node';
import { pathIds, pathLevel, type LwM2mPath } from '../../path';
import type { LwM2mValue, ResourceType } from '../../value';
import { formatIds, splitName } from './names';
import type { RawRecord } from './record';
import { toSenmlValue } from './values';

export interface Leaf {
  /** Absolute path ids: 3 (resource) or 4 (resource instance); any length for a null entry. */
  readonly ids: readonly number[];
  readonly type: ResourceType;
  /** null: no value for this path (Write-Composite removal, composite request). */
  readonly value: LwM2mValue | null;
}

const LEVEL_OF: Record<LwM2mNode['kind'], string> = {
  object: 'object',
  instance: 'instance',
  resource: 'resource',
  multiResource: 'resource',
  resourceInstance: 'resourceInstance',
};

function instanceLeaves(oid: number, inst: ObjectInstance, out: Leaf[]): void {
  for (const res of inst.resources.values()) {
    if (res.kind === 'resource') out.push({ ids: [oid, inst.id, res.id], type: res.type, value: res.value });
    else for (const [riid, value] of res.instances) out.push({ ids: [oid, inst.id, res.id, riid], type: res.type, value });
  }
}

/**
 * Appends the leaves of `node`, which must be the node `path` addresses (kind and id). An object
 * instance is also accepted for an object path: the payload of a Create (LwM2M-Core 1.1 §6.3.6).
 */
export function collectLeaves(node: LwM2mNode, path: LwM2mPath, out: Leaf[]): void {
  const ids = pathIds(path);
  const where = formatIds(ids);
  const level = pathLevel(path);
  if (level === 'object' && node.kind === 'instance') return instanceLeaves(ids[0] as number, node, out);
  if (LEVEL_OF[node.kind] !== level) throw new CodecError(`cannot encode a ${node.kind} node for a ${level} path`, where);
  if (node.id !== ids[ids.length - 1]) throw new CodecError(`${node.kind} ${node.id} does not match the path`, where);
  switch (node.kind) {
    case 'object':
      for (const inst of node.instances.values()) instanceLeaves(node.id, inst, out);
      return;
    case 'instance':
      return instanceLeaves(ids[0] as number, node, out);
    case 'resource':
      out.push({ ids, type: node.type, value: node.value });
      return;
    case 'multiResource':
      for (const [riid, value] of node.instances) out.push({ ids: [...ids, riid], type: node.type, value });
      return;
    case 'resourceInstance':
      out.push({ ids, type: node.type, value: node.value });
  }
}

/**
 * Leaves → SenML records. Records of one object instance share the base name "/oid/iid/" and
 * carry the rest of the path in "n" (as in the examples of LwM2M-Core 1.1 §7.4.5); the base name
 * is repeated only when it changes.
 */
export function leavesToRecords(leaves: readonly Leaf[]): RawRecord[] {
  const records = new Array<RawRecord>(leaves.length);
  let currentBn: string | undefined;
  let bnOid = -1;
  let bnIid = -1;
  let instanceBn = '';
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i] as Leaf;
    const ids = leaf.ids;
    let bn: string;
    let n: string;
    if (ids.length >= 3) {
      const oid = ids[0] as number;
      const iid = ids[1] as number;
      if (oid !== bnOid || iid !== bnIid) {
        bnOid = oid;
        bnIid = iid;
        instanceBn = '/' + oid + '/' + iid + '/';
      }
      bn = instanceBn;
      n = ids.length === 3 ? String(ids[2]) : ids[2] + '/' + ids[3];
    } else {
      ({ bn, n } = splitName(ids));
    }
    const r: RawRecord = bn === currentBn ? { n } : { bn, n };
    currentBn = bn;
    if (leaf.value !== null) {
      const v = toSenmlValue(leaf.type, leaf.value, bn + n);
      r.kind = v.kind;
      r.value = v.value;
      if (leaf.type === 'FLOAT') r.vFloat = true;
    }
    records[i] = r;
  }
  return records;
}
