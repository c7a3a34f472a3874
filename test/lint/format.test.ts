/** Prettier (.prettierrc.json, 120 columns) has nothing to change in the TypeScript of the tree. */
import { runTool } from './run-tool';

describe('format', () => {
  it('every TypeScript file is as Prettier writes it (fix: npm run format)', () => {
    const r = runTool('prettier', ['--list-different', '{src,test,bench,scripts}/**/*.ts']);
    if (r.status !== 0 && r.status !== 1) throw new Error(`prettier failed (status ${r.status}): ${r.stderr}`);
    expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual([]);
  });
});
