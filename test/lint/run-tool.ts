/**
 * Runs a lint tool of node_modules/.bin from the repository root and returns what it printed:
 * the lint tests read the tools' JSON reports, so a failure names every finding.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/test-deps';

export { REPO_ROOT };

export interface ToolRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTool(tool: string, args: readonly string[], cwd = REPO_ROOT): ToolRun {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', tool);
  if (!existsSync(bin)) throw new Error(`missing ${bin}: run \`npm ci\` (it is a devDependency)`);
  const r = spawnSync(bin, [...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 300_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
