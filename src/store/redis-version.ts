/**
 * The oldest Redis the stores work with: 6.2, for GETDEL and SET ... PXAT (keys.ts, scripts.ts).
 * Checked on every (re)connection, since a failover may land on another server.
 */
export const MIN_REDIS_VERSION = [6, 2] as const;

/** The `redis_version` of an INFO server reply, as numbers; undefined when absent. */
export function redisVersionOf(info: string): number[] | undefined {
  const m = /^redis_version:([0-9.]+)\s*$/m.exec(info);
  return m?.[1] === undefined ? undefined : m[1].split('.').map((n) => Number(n));
}

/** Why this server cannot hold the sessions, or undefined when it can. */
export function redisVersionProblem(info: string): string | undefined {
  const version = redisVersionOf(info);
  if (version === undefined) return undefined; // not said (some managed services): let the commands tell
  const [major = 0, minor = 0] = version;
  const [minMajor, minMinor] = MIN_REDIS_VERSION;
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return undefined;
  return `Redis ${version.join('.')} is too old: ${minMajor}.${minMinor} or newer is needed (GETDEL, SET PXAT)`;
}
