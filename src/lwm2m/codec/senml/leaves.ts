/**
 * The flat entries the SenML and LwM2M CBOR encoders write: the leaves of nodes (../leaf-nodes.ts)
 * and paths without a value (composite requests, Write-Composite removal; LwM2M-Core 1.1 §6.3.8, §7.4.5),
 * and entries → SenML raw records.
 */
import type { LwM2mNode } from '../../node';
import { fromIds } from '../../path';
import { nodeLeaves, type Leaf } from '../leaf-nodes';
import { parseName, splitName } from './names';
import type { RawRecord } from './record';
import { toSenmlValue } from './values';

/** A leaf, or a path (any length) without a value. */
export type PathEntry = Leaf | { readonly ids: readonly number[]; readonly value: null };

/** The entries of composite content keyed by path: a node's leaves, or the bare path for null. */
export function compositeEntries(nodes: ReadonlyMap<string, LwM2mNode | null>): PathEntry[] {
  const entries: PathEntry[] = [];
  for (const [key, node] of nodes) {
    const ids = parseName(key);
    if (node === null) entries.push({ ids, value: null });
    else for (const leaf of nodeLeaves(node, fromIds(ids))) entries.push(leaf);
  }
  return entries;
}

/**
 * Leaves → SenML records. Records of one object instance share the base name "/oid/iid/" and
 * carry the rest of the path in "n" (as in the examples of LwM2M-Core 1.1 §7.4.5); the base name
 * is repeated only when it changes.
 */
export function leavesToRecords(leaves: readonly PathEntry[]): RawRecord[] {
  const records = new Array<RawRecord>(leaves.length);
  let currentBn: string | undefined;
  let bnOid = -1;
  let bnIid = -1;
  let instanceBn = '';
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i] as PathEntry;
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
