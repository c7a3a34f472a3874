/** `--name value` arguments of the RPC and DTLS benchmarks. */

/** A positive number given as `--name N`, or `def` when absent. */
export function positiveFlag(argv: readonly string[], name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** One of `allowed`, given as `--name value`, or `def` when absent. */
export function choiceFlag<T extends string>(argv: readonly string[], name: string, allowed: readonly T[], def: T): T {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : def;
  if (!(allowed as readonly string[]).includes(v ?? '')) throw new Error(`--${name} must be ${allowed.join(', ')}`);
  return v as T;
}
