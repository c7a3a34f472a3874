/**
 * Where a worker thread's compiled script is: beside the module that starts it (running from
 * dist/), or in dist/ when running from the TypeScript sources (tests under ts-jest).
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ConfigError } from './errors';

/** `dir` is the caller's __dirname; `file` the worker's compiled name, e.g. 'producer-worker.js'. */
export function workerScript(dir: string, file: string, withoutIt: string): string {
  const beside = join(dir, file);
  if (existsSync(beside)) return beside;
  const root = resolve(__dirname, '..', '..');
  const built = join(root, 'dist', relative(root, dir), file);
  if (existsSync(built)) return built;
  throw new ConfigError(`${withoutIt} needs ${beside} or ${built}: run \`npm run build\``);
}
