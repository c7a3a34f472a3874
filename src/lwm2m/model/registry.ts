/**
 * Object models by id and object version (LwM2M-Core 1.1 §7.2 "Object Versioning").
 * Lookups run once per decoded resource, so every answer is one or two Map lookups: the
 * version a device asks for is resolved once (exact → newest of the same major → newest) and memoised.
 */
import {
  DEFAULT_OBJECT_VERSION,
  compareObjectVersions,
  formatObjectVersion,
  parseObjectVersion,
  type ObjectVersion,
} from './object-version';
import type { ObjectModel, ObjectModelLookup, ResourceModel } from './types';

/** Memoised answers per object, beyond the exact versions: bounds what odd `ver` values from devices can cost. */
const MAX_MEMO_PER_OBJECT = 64;

interface Versioned {
  readonly model: ObjectModel;
  readonly version: ObjectVersion;
}

interface ObjectEntry {
  /** Known versions by canonical text, oldest first. */
  readonly byVersion: Map<string, Versioned>;
  newest: ObjectModel;
  newestByMajor: Map<number, ObjectModel>;
  /** Requested version text → chosen model (exact versions pre-filled). */
  resolved: Map<string, ObjectModel>;
}

function versionOf(model: ObjectModel): ObjectVersion {
  return parseObjectVersion(model.version) ?? { major: 1, minor: 0 };
}

export class ObjectModelRegistry implements ObjectModelLookup {
  private readonly entries = new Map<number, ObjectEntry>();

  constructor(models: Iterable<ObjectModel> = []) {
    this.add(models);
  }

  /** Adds models; a model replaces a known one with the same id and version. */
  add(models: Iterable<ObjectModel>): void {
    const touched = new Set<ObjectEntry>();
    for (const model of models) {
      const version = versionOf(model);
      const key = formatObjectVersion(version);
      let entry = this.entries.get(model.id);
      if (!entry) {
        entry = { byVersion: new Map(), newest: model, newestByMajor: new Map(), resolved: new Map() };
        this.entries.set(model.id, entry);
      }
      entry.byVersion.set(key, { model, version });
      touched.add(entry);
    }
    for (const entry of touched) this.reindex(entry);
  }

  private reindex(entry: ObjectEntry): void {
    const sorted = [...entry.byVersion.entries()].sort((a, b) => compareObjectVersions(a[1].version, b[1].version));
    entry.byVersion.clear();
    entry.newestByMajor = new Map();
    entry.resolved = new Map();
    for (const [key, v] of sorted) {
      entry.byVersion.set(key, v);
      entry.newestByMajor.set(v.version.major, v.model);
      entry.resolved.set(key, v.model);
      if (v.model.version !== key) entry.resolved.set(v.model.version, v.model);
    }
    const last = sorted[sorted.length - 1];
    if (last) entry.newest = last[1].model;
  }

  getObject(objectId: number, version?: string): ObjectModel | undefined {
    const entry = this.entries.get(objectId);
    if (entry === undefined) return undefined;
    if (version === undefined) return entry.newest;
    return entry.resolved.get(version) ?? this.resolve(entry, version);
  }

  getResource(objectId: number, resourceId: number, version?: string): ResourceModel | undefined {
    return this.getObject(objectId, version)?.resources.get(resourceId);
  }

  /** Known object ids, ascending. */
  objectIds(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  /** Known versions of an object, oldest first; empty when the object is unknown. */
  versions(objectId: number): string[] {
    const entry = this.entries.get(objectId);
    return entry ? [...entry.byVersion.keys()] : [];
  }

  /**
   * Slow path, once per distinct requested version: the newest of the same major, since minor versions are
   * backward compatible (LwM2M-Core 1.1 §7.2.2), else the newest known.
   */
  private resolve(entry: ObjectEntry, requested: string): ObjectModel {
    const parsed = parseObjectVersion(requested === '' ? DEFAULT_OBJECT_VERSION : requested);
    let chosen = entry.newest;
    if (parsed) {
      chosen =
        entry.byVersion.get(formatObjectVersion(parsed))?.model ??
        entry.newestByMajor.get(parsed.major) ??
        entry.newest;
    }
    if (entry.resolved.size < entry.byVersion.size * 2 + MAX_MEMO_PER_OBJECT) entry.resolved.set(requested, chosen);
    return chosen;
  }
}
