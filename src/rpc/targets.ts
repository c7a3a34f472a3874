/**
 * What an RPC addresses: `id` (a path, object version allowed: "/3_1.2/0/9") or `key` (resolved
 * through the device's profile), and their plural forms. A versioned id must name the version
 * the device registered (as ThingsBoard checks), so a request written for another object
 * version is refused instead of misread.
 */
import { canonicalObjectVersion } from '../lwm2m/model/object-version';
import { parseVersionedPath, type LwM2mPath } from '../lwm2m/path';
import type { CompiledProfile } from '../profile/compile';
import { objectVersions, type Registration } from '../server/registration/registration';
import { RpcValueError } from './json-to-node';
import { errorMessage } from '../common/error-message';

export interface TargetContext {
  readonly registration: Registration;
  /** The device's profile, when it has one. */
  readonly profile: CompiledProfile | undefined;
}

function byKey(ctx: TargetContext, key: string, field: string): LwM2mPath {
  const p = ctx.profile;
  if (p === undefined)
    throw new RpcValueError(
      `${field}: "${key}" cannot be resolved: ${ctx.registration.endpoint} has no profile (use "id")`,
    );
  for (const entry of p.entries.values()) if (entry.key === key) return entry.path;
  throw new RpcValueError(`${field}: "${key}" is not a key of profile ${p.name}`);
}

function byId(ctx: TargetContext, text: string, field: string): LwM2mPath {
  let parsed: ReturnType<typeof parseVersionedPath>;
  try {
    parsed = parseVersionedPath(text);
  } catch (err) {
    throw new RpcValueError(`${field}: ${errorMessage(err)}`);
  }
  const { path, objectVersion } = parsed;
  if (objectVersion !== undefined && path.objectId !== undefined) {
    const registered = objectVersions(ctx.registration).get(path.objectId) ?? '1.0';
    if (canonicalObjectVersion(objectVersion) !== canonicalObjectVersion(registered)) {
      throw new RpcValueError(
        `${field}: "${text}" names version ${objectVersion} of object ${path.objectId}, the device registered version ${registered}`,
      );
    }
  }
  return path;
}

/** A path or a profile key as written in `nodes` (WriteComposite): a key unless it starts with "/" or a digit. */
export function resolveName(ctx: TargetContext, name: string, field: string): LwM2mPath {
  return /^\/|^\d/.test(name) ? byId(ctx, name, field) : byKey(ctx, name, field);
}

export function resolveTarget(ctx: TargetContext, params: { readonly id?: string; readonly key?: string }): LwM2mPath {
  if (params.key !== undefined) return byKey(ctx, params.key, 'params.key');
  if (params.id !== undefined) return byId(ctx, params.id, 'params.id');
  throw new RpcValueError('params.id: missing');
}

export function resolveTargets(
  ctx: TargetContext,
  params: { readonly ids?: readonly string[]; readonly keys?: readonly string[] },
): LwM2mPath[] {
  if (params.keys !== undefined) return params.keys.map((k, i) => byKey(ctx, k, `params.keys.${i}`));
  if (params.ids !== undefined) return params.ids.map((t, i) => byId(ctx, t, `params.ids.${i}`));
  throw new RpcValueError('params.ids: missing');
}
