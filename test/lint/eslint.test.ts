/** ESLint (eslint.config.mjs: typescript-eslint's recommended rules and ours) finds nothing in the tree. */
import { runTool } from './run-tool';

interface EslintResult {
  readonly filePath: string;
  readonly messages: readonly {
    readonly line: number;
    readonly ruleId: string | null;
    readonly message: string;
    readonly severity: number;
  }[];
}

describe('eslint', () => {
  it('reports no problem in src, test, bench and scripts', () => {
    const r = runTool('eslint', ['--format', 'json', '--max-warnings', '0', 'src', 'test', 'bench', 'scripts']);
    if (r.stdout.trim() === '') throw new Error(`eslint printed no report (status ${r.status}): ${r.stderr}`);
    const results = JSON.parse(r.stdout) as EslintResult[];
    expect(results.length).toBeGreaterThan(300);
    const problems = results.flatMap((f) =>
      f.messages.map((m) => `${f.filePath}:${m.line} ${m.ruleId ?? 'parse'}: ${m.message}`),
    );
    expect(problems).toEqual([]);
  });
});
