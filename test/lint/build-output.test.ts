/**
 * The production build (tsconfig.build.json, what the Dockerfile compiles) holds product code
 * only: no test file, nothing from test/ or bench/, and no compiled module that requires them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { runTool } from './run-tool';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('production build', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'build-'));
    const r = runTool('tsc', ['-p', 'tsconfig.build.json', '--outDir', out]);
    if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed: ${r.stdout}${r.stderr}`);
  }, 300_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('contains only src/, no test file, and no module that requires test or benchmark code', () => {
    const files = filesUnder(out).map((f) => relative(out, f));
    expect(files).toContain(join('src', 'main.js'));
    expect(files.filter((f) => !f.startsWith(`src/`))).toEqual([]);
    expect(files.filter((f) => /\.test\.js$|test-|fixture|double/.test(f))).toEqual([]);
    const reachingOut = files.flatMap((f) =>
      [...readFileSync(join(out, f), 'utf8').matchAll(/require\("(\.[^"]+)"\)/g)]
        .map((m) => relative(out, resolve(dirname(join(out, f)), m[1] as string)))
        .filter((target) => !target.startsWith('src/'))
        .map((target) => `${f} requires ${target}`),
    );
    expect(reachingOut).toEqual([]);
  });
});
