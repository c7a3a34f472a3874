/**
 * What a profile asks of one registered device, computed without I/O: which paths to read, which
 * notification attributes to write, which observations to hold. Only paths the device announced
 * in its object links (LwM2M-Core 1.2 §6.2.1) are used; the others are listed as skipped.
 *
 * Observe strategies (ThingsBoard's names):
 * - SINGLE: one Observe per path (LwM2M-Core 1.2 §6.4.1).
 * - COMPOSITE_ALL: one Observe-Composite with every path (LwM2M-Core 1.2 §6.4.1, 1.1+ only).
 * - COMPOSITE_BY_OBJECT: one Observe-Composite per object id.
 * A 1.0 client has no composite operations: it always gets SINGLE.
 */
import type { NotificationAttributes } from '../lwm2m/attributes';
import { DEFAULT_OBJECT_VERSION } from '../lwm2m/model/object-version';
import { isPrefixOf } from '../lwm2m/path';
import type { Registration } from '../server/registration/registration';
import type { CompiledProfile, PathEntry } from './compile';
import type { ObserveStrategy } from './schema';

export type SkipReason = 'object-not-announced' | 'instance-not-announced';
export type PathUse = 'read' | 'observe' | 'write-attributes';

export interface SkippedPath {
  readonly path: string;
  readonly reason: SkipReason;
  readonly uses: readonly PathUse[];
}

export interface ObservationSpec {
  readonly kind: 'single' | 'composite';
  /** Formatted paths, as in the server's Observation.paths. */
  readonly paths: readonly string[];
}

export interface VersionMismatch {
  readonly path: string;
  /** Object version written in the profile path. */
  readonly profile: string;
  /** Object version the device announced ("1.0" when it gave none). */
  readonly device: string;
}

export interface ObservationPlan {
  readonly requested: ObserveStrategy;
  /** The strategy used: SINGLE for LwM2M 1.0 clients. */
  readonly strategy: ObserveStrategy;
  readonly observations: readonly ObservationSpec[];
  readonly skipped: readonly SkippedPath[];
}

export interface SetupPlan extends ObservationPlan {
  /** Read-Composite when `composite` (readStrategy COMPOSITE, 1.1+, several paths), else one Read per path. Paths below another read path are left out. */
  readonly reads: { readonly composite: boolean; readonly paths: readonly string[] };
  readonly attributes: ReadonlyArray<{ readonly path: string; readonly attributes: NotificationAttributes }>;
  readonly versionMismatches: readonly VersionMismatch[];
}

function skipReason(reg: Registration, e: PathEntry): SkipReason | undefined {
  const obj = reg.objects.find((o) => o.objectId === e.path.objectId);
  if (obj === undefined) return 'object-not-announced';
  if (e.path.instanceId !== undefined && !obj.instances.includes(e.path.instanceId)) return 'instance-not-announced';
  return undefined;
}

class Skips {
  private readonly byPath = new Map<string, { reason: SkipReason; uses: PathUse[] }>();

  /** Keeps the announced entries, notes the others. */
  filter(reg: Registration, entries: readonly PathEntry[], use: PathUse): PathEntry[] {
    return entries.filter((e) => {
      const reason = skipReason(reg, e);
      if (reason === undefined) return true;
      const s = this.byPath.get(e.text) ?? { reason, uses: [] };
      if (!s.uses.includes(use)) s.uses.push(use);
      this.byPath.set(e.text, s);
      return false;
    });
  }

  list(): SkippedPath[] {
    return [...this.byPath].map(([path, s]) => ({ path, reason: s.reason, uses: s.uses }));
  }
}

export function effectiveStrategy(requested: ObserveStrategy, reg: Registration): ObserveStrategy {
  return reg.lwm2mVersion === '1.0' ? 'SINGLE' : requested;
}

function observationSpecs(strategy: ObserveStrategy, entries: readonly PathEntry[]): ObservationSpec[] {
  if (entries.length === 0) return [];
  if (strategy === 'SINGLE') return entries.map((e) => ({ kind: 'single', paths: [e.text] }));
  if (strategy === 'COMPOSITE_ALL') return [{ kind: 'composite', paths: entries.map((e) => e.text) }];
  const byObject = new Map<number, string[]>();
  for (const e of entries) {
    const oid = e.path.objectId as number;
    const list = byObject.get(oid) ?? [];
    list.push(e.text);
    byObject.set(oid, list);
  }
  return [...byObject.values()].map((paths) => ({ kind: 'composite', paths }));
}

function observationsOf(profile: CompiledProfile, reg: Registration, skips: Skips): ObservationPlan {
  const strategy = effectiveStrategy(profile.strategy, reg);
  const observed = skips.filter(reg, profile.observePaths, 'observe');
  return { requested: profile.strategy, strategy, observations: observationSpecs(strategy, observed), skipped: [] };
}

/** The observations a profile wants on a registration, by its strategy. */
export function planObservations(profile: CompiledProfile, reg: Registration): ObservationPlan {
  const skips = new Skips();
  return { ...observationsOf(profile, reg, skips), skipped: skips.list() };
}

function versionMismatches(profile: CompiledProfile, reg: Registration): VersionMismatch[] {
  const out: VersionMismatch[] = [];
  for (const e of profile.entries.values()) {
    if (e.objectVersion === undefined) continue;
    const obj = reg.objects.find((o) => o.objectId === e.path.objectId);
    if (obj === undefined) continue;
    const device = obj.version ?? DEFAULT_OBJECT_VERSION;
    if (device !== e.objectVersion) out.push({ path: e.text, profile: e.objectVersion, device });
  }
  return out;
}

/** Everything the registration flow does for a device under a profile (steps 1-3). */
export function planSetup(profile: CompiledProfile, reg: Registration): SetupPlan {
  const skips = new Skips();
  const readable = skips.filter(reg, profile.readPaths, 'read');
  const reads = readable.filter(
    (e) => !readable.some((other) => other !== e && other.ids.length < e.ids.length && isPrefixOf(other.path, e.path)),
  );
  const attributes = skips
    .filter(reg, profile.attributePaths, 'write-attributes')
    .map((e) => ({ path: e.text, attributes: e.notificationAttributes ?? {} }));
  const observations = observationsOf(profile, reg, skips);
  return {
    ...observations,
    reads: {
      composite: profile.readStrategy === 'COMPOSITE' && reg.lwm2mVersion !== '1.0' && reads.length > 1,
      paths: reads.map((e) => e.text),
    },
    attributes,
    skipped: skips.list(),
    versionMismatches: versionMismatches(profile, reg),
  };
}

/** Identity of an observation for diffing: kind and path set. */
export function observationKey(spec: { readonly kind: string; readonly paths: readonly string[] }): string {
  return `${spec.kind} ${[...spec.paths].sort().join(' ')}`;
}
