/**
 * A validated profile compiled once into what the hot paths need: entries by path, the paths to
 * read, observe and write attributes to, and a trie by path ids for the per-notification lookup.
 */
import type { NotificationAttributes } from '../lwm2m/attributes';
import { canonicalObjectVersion } from '../lwm2m/model/object-version';
import { formatPath, parseVersionedPath, pathIds, type LwM2mPath } from '../lwm2m/path';
import {
  readStrategyOf,
  type ObserveStrategy,
  type ProfileDefinition,
  type ReadStrategy,
  type UnmappedPolicy,
} from './schema';

export interface PathEntry {
  readonly path: LwM2mPath;
  /** Normalised path text without object version ("/3/0/9"). */
  readonly text: string;
  readonly ids: readonly number[];
  /** Object version written in the profile ("/3_1.2/0/9" → "1.2"), if any. */
  readonly objectVersion?: string;
  /** Explicit key from observeAttr.keyName. */
  readonly key?: string;
  readonly telemetry: boolean;
  readonly attribute: boolean;
  readonly observe: boolean;
  readonly notificationAttributes?: NotificationAttributes;
}

export interface TrieNode {
  /** The entry at this path when it maps values (has a key, or is telemetry or attribute). */
  entry?: PathEntry;
  children?: Map<number, TrieNode>;
}

export interface CompiledProfile {
  readonly name: string;
  readonly definition: ProfileDefinition;
  readonly strategy: ObserveStrategy;
  readonly readStrategy: ReadStrategy;
  readonly unmapped: UnmappedPolicy;
  readonly entries: ReadonlyMap<string, PathEntry>;
  /** attribute ∪ telemetry, in profile order. */
  readonly readPaths: readonly PathEntry[];
  readonly observePaths: readonly PathEntry[];
  /** Paths with notification attributes to write. */
  readonly attributePaths: readonly PathEntry[];
  readonly trie: TrieNode;
  /** Canonical JSON of the definition: equal fingerprints, same behaviour. */
  readonly fingerprint: string;
}

interface MutableEntry {
  path: LwM2mPath;
  text: string;
  ids: number[];
  objectVersion?: string;
  key?: string;
  telemetry: boolean;
  attribute: boolean;
  observe: boolean;
  notificationAttributes?: NotificationAttributes;
}

export function compileProfile(def: ProfileDefinition): CompiledProfile {
  const entries = new Map<string, MutableEntry>();
  const entryFor = (raw: string): MutableEntry => {
    const { path, objectVersion } = parseVersionedPath(raw);
    const text = formatPath(path);
    let e = entries.get(text);
    if (e === undefined) {
      e = { path, text, ids: pathIds(path), telemetry: false, attribute: false, observe: false };
      entries.set(text, e);
    }
    const version = objectVersion === undefined ? undefined : canonicalObjectVersion(objectVersion);
    if (version !== undefined && e.objectVersion === undefined) e.objectVersion = version;
    return e;
  };
  const oa = def.observeAttr;
  const order: { read: MutableEntry[]; observe: MutableEntry[]; attrs: MutableEntry[] } = {
    read: [],
    observe: [],
    attrs: [],
  };
  const push = (list: MutableEntry[], e: MutableEntry): void => {
    if (!list.includes(e)) list.push(e);
  };
  for (const raw of oa.attribute) push(order.read, Object.assign(entryFor(raw), { attribute: true }));
  for (const raw of oa.telemetry) push(order.read, Object.assign(entryFor(raw), { telemetry: true }));
  for (const raw of oa.observe) push(order.observe, Object.assign(entryFor(raw), { observe: true }));
  for (const [raw, key] of Object.entries(oa.keyName)) entryFor(raw).key = key;
  for (const [raw, attrs] of Object.entries(oa.attributeLwm2m)) {
    if (Object.keys(attrs).length === 0) continue;
    const e = entryFor(raw);
    e.notificationAttributes = { ...e.notificationAttributes, ...attrs };
    push(order.attrs, e);
  }
  const trie: TrieNode = {};
  for (const e of entries.values()) {
    if (e.key === undefined && !e.telemetry && !e.attribute) continue;
    let node = trie;
    for (const id of e.ids) {
      node.children ??= new Map();
      let next = node.children.get(id);
      if (next === undefined) node.children.set(id, (next = {}));
      node = next;
    }
    node.entry = e;
  }
  return {
    name: def.name,
    definition: def,
    strategy: oa.observeStrategy ?? def.observeStrategy ?? 'SINGLE',
    readStrategy: readStrategyOf(def),
    unmapped: def.unmappedPaths,
    entries,
    readPaths: order.read,
    observePaths: order.observe,
    attributePaths: order.attrs,
    trie,
    // Stamps and description do not change behaviour: a re-publication of the same content is no change.
    fingerprint: canonicalJson({ ...def, updatedAt: undefined, version: undefined, description: undefined }),
  };
}

/** JSON with object keys sorted, so that equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
