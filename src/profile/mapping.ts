/**
 * Values by path → `{telemetry: {key: value}, attributes: {key: value}}` under a compiled profile.
 * Pure and allocation-light: it runs for every notification and Send.
 *
 * Every value is a leaf: a single resource (/o/i/r) or a resource instance (/o/i/r/ri; a
 * multi-instance resource is its instances). For each leaf, the deepest profile entry at or above
 * its path that maps values (has a keyName, or is listed in telemetry or attribute) decides:
 * - an entry with a key: the value goes under that key; when the leaf lies below the entry, it is
 *   nested by the remaining ids, so a multi-instance resource becomes `{instanceId: value}` and a
 *   keyed instance `{resourceId: value}`;
 * - an entry without a key: the key is the resource's path ("/3/0/7"), again nested by instance;
 * - the record kind follows the entry's flags (both when both; telemetry when only observed);
 * - no entry: the profile's `unmappedPaths` says: "path" publishes as telemetry under the
 *   resource's path, "drop" drops the value.
 */
import type { LwM2mNode } from '../lwm2m/node';
import { parsePath, pathIds } from '../lwm2m/path';
import type { ResourceType } from '../lwm2m/value';
import type { CompiledProfile, PathEntry } from './compile';
import { toJsonValue, type JsonLeaf, type MutableJsonObject, type ValueConverter } from './json-value';

export { compileProfile, type CompiledProfile, type PathEntry } from './compile';

export interface MappedValues {
  readonly telemetry: MutableJsonObject;
  readonly attributes: MutableJsonObject;
  /** LwM2M type by key, for keys whose value is one resource (single or multi-instance). */
  readonly types: { [key: string]: ResourceType };
  /**
   * With `keepUnmapped`, the values a "drop" profile has no entry for, keyed by resource path
   * (nested by instance), with their types; otherwise undefined.
   */
  readonly unmapped?: { readonly values: MutableJsonObject; readonly types: { [path: string]: ResourceType } };
}

const idsCache = new Map<string, readonly number[]>();
const IDS_CACHE_MAX = 10_000;

function idsOf(text: string): readonly number[] {
  let ids = idsCache.get(text);
  if (ids === undefined) {
    ids = pathIds(parsePath(text));
    if (idsCache.size >= IDS_CACHE_MAX) idsCache.clear();
    idsCache.set(text, ids);
  }
  return ids;
}

/** The key of a leaf that no keyed entry names: the path of its resource. */
function resourceKey(ids: readonly number[]): string {
  return `/${ids[0]}/${ids[1]}/${ids[2]}`;
}

/** Sets target[key] (nested by ids[from..]) to value; `value` undefined only makes the object exist. */
function assign(
  target: MutableJsonObject,
  key: string,
  ids: readonly number[],
  from: number,
  value: JsonLeaf | undefined,
): void {
  let obj = target;
  let name = key;
  for (let i = from; i < ids.length; i++) {
    const existing = obj[name];
    let next: MutableJsonObject;
    if (typeof existing === 'object') next = existing;
    else obj[name] = next = {};
    obj = next;
    name = String(ids[i]);
  }
  if (value !== undefined) obj[name] = value;
  else if (typeof obj[name] !== 'object') obj[name] = {};
}

class Mapper {
  readonly telemetry: MutableJsonObject = {};
  readonly attributes: MutableJsonObject = {};
  readonly types: { [key: string]: ResourceType } = {};
  readonly unmapped: { values: MutableJsonObject; types: { [path: string]: ResourceType } } | undefined;
  private readonly ids: number[] = [];

  constructor(
    private readonly profile: CompiledProfile,
    private readonly convert: ValueConverter,
    keepUnmapped: boolean,
  ) {
    this.unmapped = keepUnmapped ? { values: {}, types: {} } : undefined;
  }

  node(base: readonly number[], node: LwM2mNode): void {
    this.ids.length = 0;
    this.ids.push(...base);
    this.walk(node);
  }

  private walk(node: LwM2mNode): void {
    const ids = this.ids;
    switch (node.kind) {
      case 'object':
        for (const inst of node.instances.values()) this.child(inst.id, inst);
        return;
      case 'instance':
        for (const res of node.resources.values()) this.child(res.id, res);
        return;
      case 'resource':
      case 'resourceInstance':
        this.leaf(this.convert(node.value, node.type), node.type);
        return;
      case 'multiResource':
        if (node.instances.size === 0) this.leaf(undefined, node.type);
        for (const [ri, v] of node.instances) {
          ids.push(ri);
          this.leaf(this.convert(v, node.type), node.type);
          ids.pop();
        }
    }
  }

  private child(id: number, node: LwM2mNode): void {
    this.ids.push(id);
    this.walk(node);
    this.ids.pop();
  }

  /** A value at the current ids (resource or resource instance); undefined: an empty multi-instance resource. */
  private leaf(value: JsonLeaf | undefined, type: ResourceType): void {
    const ids = this.ids;
    if (ids.length < 3) return;
    let entry: PathEntry | undefined;
    let depth = 0;
    let trie = this.profile.trie;
    for (let i = 0; i < ids.length; i++) {
      const next = trie.children?.get(ids[i] as number);
      if (next === undefined) break;
      trie = next;
      if (next.entry !== undefined) {
        entry = next.entry;
        depth = i + 1;
      }
    }
    if (entry === undefined) {
      const key = resourceKey(ids);
      if (this.profile.unmapped === 'drop') {
        if (this.unmapped !== undefined) {
          assign(this.unmapped.values, key, ids, 3, value);
          this.unmapped.types[key] = type;
        }
        return;
      }
      assign(this.telemetry, key, ids, 3, value);
      this.types[key] = type;
      return;
    }
    const key = entry.key ?? resourceKey(ids);
    const from = entry.key !== undefined ? depth : 3;
    if (entry.telemetry || !entry.attribute) assign(this.telemetry, key, ids, from, value);
    if (entry.attribute) assign(this.attributes, key, ids, from, value);
    // The key holds one resource when it names the resource or one of its instances.
    if (from >= 3) this.types[key] = type;
  }
}

/** Maps nodes by path (as in notifications, composite reads and Send). Null nodes are skipped. */
export function mapNodes(
  profile: CompiledProfile,
  nodes: Iterable<readonly [string, LwM2mNode | null | undefined]>,
  convert: ValueConverter = toJsonValue,
  keepUnmapped = false,
): MappedValues {
  const m = new Mapper(profile, convert, keepUnmapped);
  for (const [path, node] of nodes) if (node) m.node(idsOf(path), node);
  return {
    telemetry: m.telemetry,
    attributes: m.attributes,
    types: m.types,
    ...(m.unmapped !== undefined ? { unmapped: m.unmapped } : {}),
  };
}

/** Maps the one node of a single-path Read or Observe. */
export function mapNode(
  profile: CompiledProfile,
  path: string,
  node: LwM2mNode,
  convert: ValueConverter = toJsonValue,
): MappedValues {
  return mapNodes(profile, [[path, node]], convert);
}

/** Whether a mapped object holds any key (without allocating a key list). */
export function hasKeys(o: MutableJsonObject): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}

export function isEmptyMapping(m: MappedValues): boolean {
  return !hasKeys(m.telemetry) && !hasKeys(m.attributes);
}

/** The types of the keys present in `values`. */
export function typesOf(values: MutableJsonObject, types: MappedValues['types']): { [key: string]: ResourceType } {
  const out: { [key: string]: ResourceType } = {};
  for (const key in values) {
    const t = types[key];
    if (t !== undefined) out[key] = t;
  }
  return out;
}
