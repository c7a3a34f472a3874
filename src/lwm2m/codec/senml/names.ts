/**
 * SenML names ↔ LwM2M paths. In LwM2M the concatenated name (bn + n) of a record is an absolute
 * path "/oid[/iid[/rid[/riid]]]" (LwM2M-Core 1.1 §7.4.5); "/" names the root (composite requests).
 */
import { CodecError } from '../../../common/errors';
import { MAX_ID } from '../../path';

const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Parses an absolute LwM2M path name into ids without allocating substrings.
 * "/" gives []. A trailing "/" is accepted only when `allowTrailingSlash` (path-only requests).
 */
export function parseName(name: string, allowTrailingSlash = false): number[] {
  const len = name.length;
  if (len === 0 || name.charCodeAt(0) !== SLASH)
    throw new CodecError(`SenML name "${name}" is not an LwM2M path`, name);
  const ids: number[] = [];
  if (len === 1) return ids;
  let id = 0;
  let digits = 0;
  for (let i = 1; i < len; i++) {
    const c = name.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      id = id * 10 + (c - ZERO);
      if (++digits > 5 || id > MAX_ID) throw new CodecError(`SenML name "${name}" has an id above ${MAX_ID}`, name);
    } else if (c === SLASH) {
      if (digits === 0) throw new CodecError(`SenML name "${name}" has an empty path segment`, name);
      ids.push(id);
      id = 0;
      digits = 0;
    } else {
      throw new CodecError(`SenML name "${name}" is not an LwM2M path`, name);
    }
  }
  if (digits > 0) ids.push(id);
  else if (!allowTrailingSlash) throw new CodecError(`SenML name "${name}" ends with "/"`, name);
  if (ids.length > 4) throw new CodecError(`SenML name "${name}" has more than 4 path segments`, name);
  return ids;
}

/** Whether `name` is already the canonical form of `ids` (no leading zeros, no trailing "/"). */
export function isCanonical(name: string, ids: readonly number[]): boolean {
  let len = ids.length === 0 ? 1 : 0;
  for (const id of ids) len += id < 10 ? 2 : id < 100 ? 3 : id < 1000 ? 4 : id < 10000 ? 5 : 6;
  return len === name.length;
}

/**
 * Splits a path into the base name and name written on the wire: records of one object instance
 * share the base name "/oid/iid/", so a Read of /3/0 gives {"bn":"/3/0/","n":"0"} as in the
 * examples of LwM2M-Core 1.1 §7.4.5.
 */
export function splitName(ids: readonly number[]): { bn: string; n: string } {
  if (ids.length === 0) return { bn: '', n: '/' };
  const cut = ids.length >= 3 ? 2 : ids.length - 1;
  let bn = '/';
  for (let i = 0; i < cut; i++) bn += ids[i] + '/';
  let n = '';
  for (let i = cut; i < ids.length; i++) n += (i > cut ? '/' : '') + ids[i];
  return { bn, n };
}
