/**
 * LwM2M CBOR (application/vnd.oma.lwm2m+cbor, 11544) bytes layer, LwM2M-Core 1.2 §7.4.7.
 *
 * Format: nested CBOR maps keyed by path ids from the root: {3: {0: {0: "Open Mobile Alliance"}}}.
 * A key may also be an array of ids standing for a chain of nested single-key maps, so the same
 * content can be written {[3, 0, 0]: "Open Mobile Alliance"}. Leaves are the values of resources
 * or resource instances, typed as in LwM2M-Core 1.2 Table C.-2 (Objlnk as "oid:iid" text, Time as
 * an integer); null means "no value" (composite removal / path-only content).
 *
 * Decoding yields resolved SenML-like records so the SenML records → nodes layer is shared;
 * encoding writes leaves, collapsing single-child chains into array keys.
 */
import { CodecError } from '../../common/errors';
import { formatIds, MAX_ID } from '../path';
import { CborWriter } from './cbor-writer';
import { decodeCbor, writeValueItem } from './senml/cbor-records';
import type { PathEntry } from './senml/leaves';
import type { RecordValue, ResolvedRecord, ValueKind } from './senml/record';
import { toSenmlValue } from './senml/values';

const FORMAT = 'LwM2M CBOR';

function leafValue(v: unknown, name: string): { kind: ValueKind; value: RecordValue } {
  if (typeof v === 'number' || typeof v === 'bigint') return { kind: 'v', value: v };
  if (typeof v === 'string') return { kind: 'vs', value: v };
  if (typeof v === 'boolean') return { kind: 'vb', value: v };
  if (v instanceof Uint8Array) return { kind: 'vd', value: Buffer.isBuffer(v) ? v : Buffer.from(v) };
  if (v instanceof Date && !Number.isNaN(v.getTime())) return { kind: 'time', value: v };
  throw new CodecError(`${FORMAT}: unsupported value item`, name);
}

/** Appends the ids of one map key (an id or a non-empty array of ids). */
function appendKey(ids: number[], key: unknown, where: string): void {
  const parts: readonly unknown[] = Array.isArray(key) ? key : [key];
  if (parts.length === 0) throw new CodecError(`${FORMAT}: empty path array key`, ids.length ? formatIds(ids) : where);
  for (const id of parts) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_ID) {
      throw new CodecError(`${FORMAT}: map key ${String(id)} is not a path id`, ids.length ? formatIds(ids) : where);
    }
    ids.push(id);
  }
  // LwM2M-Core 1.2 §7.4.7: paths have at most 4 levels (object/instance/resource/resource instance).
  if (ids.length > 4) throw new CodecError(`${FORMAT}: path has more than 4 levels`, formatIds(ids));
}

function walk(map: Map<unknown, unknown>, prefix: readonly number[], out: ResolvedRecord[], where: string): void {
  for (const [key, value] of map) {
    const ids = prefix.slice();
    appendKey(ids, key, where);
    if (value instanceof Map) {
      walk(value as Map<unknown, unknown>, ids, out, where);
      continue;
    }
    const name = formatIds(ids);
    if (value === null) {
      out.push({ name, ids });
      continue;
    }
    if (ids.length < 3) throw new CodecError(`${FORMAT}: a value must be at resource level`, name);
    const { kind, value: v } = leafValue(value, name);
    out.push({ name, ids, kind, value: v });
  }
}

/** Decodes LwM2M CBOR into one record per leaf, with absolute paths. */
export function readLwM2mCbor(payload: Buffer, where: string): ResolvedRecord[] {
  const root = decodeCbor(payload, where, FORMAT);
  if (!(root instanceof Map)) throw new CodecError(`${FORMAT}: content must be a CBOR map`, where);
  const out: ResolvedRecord[] = [];
  walk(root as Map<unknown, unknown>, [], out, where);
  return out;
}

interface Trie {
  children?: Map<number, Trie>;
  leaf?: PathEntry;
}

function insert(root: Map<number, Trie>, leaf: PathEntry): void {
  let children = root;
  const ids = leaf.ids;
  if (ids.length === 0) throw new CodecError(`${FORMAT} cannot name the root path`, '/');
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    let node = children.get(id);
    if (!node) children.set(id, (node = {}));
    if (node.leaf)
      throw new CodecError(`${FORMAT}: path given twice or nested under a value`, formatIds(ids.slice(0, i + 1)));
    if (i === ids.length - 1) {
      if (node.children) throw new CodecError(`${FORMAT}: a value cannot also have children`, formatIds(ids));
      node.leaf = leaf;
    } else {
      children = node.children ??= new Map<number, Trie>();
    }
  }
}

function writeLeaf(w: CborWriter, leaf: PathEntry): void {
  if (leaf.value === null) return void w.null();
  const where = formatIds(leaf.ids);
  // LwM2M-Core 1.2 Table C.-2: the SenML value of the type, as a bare CBOR item.
  const { kind, value } = toSenmlValue(leaf.type, leaf.value, where);
  writeValueItem(w, kind, value, leaf.type === 'FLOAT', where);
}

/**
 * Writes a map whose keys are ids at `depth` (0: object ... 3: resource instance). Chains of
 * single-child maps collapse into one array key (LwM2M-Core 1.2 §7.4.7), except that a key
 * starting at a resource keeps its resource instances in a nested map, mirroring the node model:
 * {[3, 0]: {11: {0: 0}}} rather than {[3, 0]: {[11, 0]: 0}}.
 */
function writeMap(w: CborWriter, children: Map<number, Trie>, depth: number, key: number[]): void {
  w.map(children.size);
  for (const [id, first] of children) {
    key.length = 0;
    key.push(id);
    let node = first;
    while (depth < 2 && !node.leaf && node.children && node.children.size === 1) {
      const [childId, child] = node.children.entries().next().value as [number, Trie];
      key.push(childId);
      node = child;
    }
    if (key.length === 1) w.int(id);
    else {
      w.array(key.length);
      for (const k of key) w.int(k);
    }
    if (node.leaf) writeLeaf(w, node.leaf);
    else writeMap(w, node.children ?? new Map<number, Trie>(), depth + key.length, key);
  }
}

/** Encodes leaves and bare paths (absolute paths) as LwM2M CBOR. */
export function writeLwM2mCbor(leaves: readonly PathEntry[]): Buffer {
  const root = new Map<number, Trie>();
  for (const leaf of leaves) insert(root, leaf);
  const w = new CborWriter(64 + leaves.length * 16);
  writeMap(w, root, 0, []);
  return w.finish();
}
