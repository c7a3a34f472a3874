/**
 * LwM2M paths: /{object}[/{instance}[/{resource}[/{resourceInstance}]]] (LwM2M-Core 1.2 §6.1, §7.1).
 * The root path "/" is used by Read-Composite, Discover on the root and Send.
 * Versioned object ids as used by ThingsBoard profiles ("/3_1.2/0/9") are accepted by `parseVersionedPath`.
 */
import { PathError } from '../common/errors';

export interface LwM2mPath {
  readonly objectId?: number;
  readonly instanceId?: number;
  readonly resourceId?: number;
  readonly resourceInstanceId?: number;
}

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';

/** Ids are 16-bit; 65535 is reserved (LwM2M-Core 1.2 §7.1: MAX_ID). */
export const MAX_ID = 65534;

export function pathLevel(p: LwM2mPath): PathLevel {
  if (p.objectId === undefined) return 'root';
  if (p.instanceId === undefined) return 'object';
  if (p.resourceId === undefined) return 'instance';
  if (p.resourceInstanceId === undefined) return 'resource';
  return 'resourceInstance';
}

export function formatPath(p: LwM2mPath): string {
  if (p.objectId === undefined) return '/';
  let s = `/${p.objectId}`;
  if (p.instanceId !== undefined) s += `/${p.instanceId}`;
  if (p.resourceId !== undefined) s += `/${p.resourceId}`;
  if (p.resourceInstanceId !== undefined) s += `/${p.resourceInstanceId}`;
  return s;
}

function parseId(seg: string, whole: string): number {
  if (!/^\d{1,5}$/.test(seg)) throw new PathError(`invalid path "${whole}": segment "${seg}" is not an id`);
  const n = Number(seg);
  if (n > MAX_ID) throw new PathError(`invalid path "${whole}": id ${n} exceeds ${MAX_ID}`);
  return n;
}

/** Parses "/3/0/9", "3/0/9" or "/" into a path. */
export function parsePath(text: string): LwM2mPath {
  const trimmed = text.trim();
  const body = trimmed.startsWith('/') ? trimmed.slice(1) : trimmed;
  if (body === '') return {};
  const segs = body.split('/');
  if (segs.length > 4) throw new PathError(`invalid path "${text}": more than 4 segments`);
  const ids = segs.map((s) => parseId(s, text));
  return fromIds(ids);
}

export function fromIds(ids: readonly number[]): LwM2mPath {
  const [objectId, instanceId, resourceId, resourceInstanceId] = ids;
  const p: { objectId?: number; instanceId?: number; resourceId?: number; resourceInstanceId?: number } = {};
  if (objectId !== undefined) p.objectId = objectId;
  if (instanceId !== undefined) p.instanceId = instanceId;
  if (resourceId !== undefined) p.resourceId = resourceId;
  if (resourceInstanceId !== undefined) p.resourceInstanceId = resourceInstanceId;
  return p;
}

export function pathIds(p: LwM2mPath): number[] {
  const out: number[] = [];
  if (p.objectId === undefined) return out;
  out.push(p.objectId);
  if (p.instanceId === undefined) return out;
  out.push(p.instanceId);
  if (p.resourceId === undefined) return out;
  out.push(p.resourceId);
  if (p.resourceInstanceId !== undefined) out.push(p.resourceInstanceId);
  return out;
}

/** "/3/0/6/1" from path ids ([] gives "/"). */
export function formatIds(ids: readonly number[]): string {
  if (ids.length === 0) return '/';
  let s = '';
  for (const id of ids) s += '/' + id;
  return s;
}

/** Parses "/3_1.2/0/9" (object id with version) as well as plain paths. */
export function parseVersionedPath(text: string): { path: LwM2mPath; objectVersion?: string } {
  const m = /^\/?(\d+)_(\d+\.\d+)(\/.*)?$/.exec(text.trim());
  if (!m) return { path: parsePath(text) };
  const path = parsePath(`/${m[1]}${m[3] ?? ''}`);
  return { path, objectVersion: m[2] as string };
}

/** True when `child` equals `parent` or lies below it. */
export function isPrefixOf(parent: LwM2mPath, child: LwM2mPath): boolean {
  const a = pathIds(parent);
  const b = pathIds(child);
  if (a.length > b.length) return false;
  return a.every((v, i) => v === b[i]);
}

export function childPath(parent: LwM2mPath, id: number): LwM2mPath {
  return fromIds([...pathIds(parent), id]);
}
