/**
 * Object versions "major.minor" (LwM2M-Core 1.1 §7.2.2 "Object Version format"; also LwM2M-Core 1.2 §7.2.2).
 * An absent version means "1.0", the initial version.
 */

export const DEFAULT_OBJECT_VERSION = '1.0';

export interface ObjectVersion {
  readonly major: number;
  readonly minor: number;
}

const VERSION_RE = /^(\d{1,5})\.(\d{1,5})$/;

/** Parses "1.2" (surrounding whitespace allowed); undefined when not of the form major.minor. */
export function parseObjectVersion(text: string): ObjectVersion | undefined {
  const m = VERSION_RE.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** The canonical text of a version: "01.10" → "1.10". */
export function formatObjectVersion(v: ObjectVersion): string {
  return `${v.major}.${v.minor}`;
}

/** Canonical form of a version string, or undefined when it is not major.minor. */
export function canonicalObjectVersion(text: string): string | undefined {
  const v = parseObjectVersion(text);
  return v === undefined ? undefined : formatObjectVersion(v);
}

/** Negative when a < b, positive when a > b, 0 when equal. */
export function compareObjectVersions(a: ObjectVersion, b: ObjectVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}
