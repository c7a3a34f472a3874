/**
 * The layers of src/ (docs/architecture.md, .dependency-cruiser.cjs): every import points down,
 * no cycles, product code uses neither test code nor devDependencies.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, runTool } from './run-tool';

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
}
interface CruiseReport {
  readonly summary: { readonly violations: readonly Violation[]; readonly totalCruised: number };
}

function cruise(cwd: string, config: string): CruiseReport {
  const r = runTool('depcruise', ['src', '--config', config, '--output-type', 'json'], cwd);
  if (r.stdout.trim() === '') throw new Error(`depcruise printed nothing (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as CruiseReport;
}

describe('layers', () => {
  it('every import in src/ points down the layers, with no cycle and no test code or devDependency in the product', () => {
    const report = cruise(REPO_ROOT, '.dependency-cruiser.cjs');
    expect(report.summary.totalCruised).toBeGreaterThan(200);
    // Listed as text so that a failure says which file broke which rule.
    expect(report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('places every folder of src/ in a layer (a folder in none would be checked in neither direction)', () => {
    const config = createRequire(__filename)(join(REPO_ROOT, '.dependency-cruiser.cjs')) as {
      forbidden: readonly { name: string }[];
    };
    const layered = config.forbidden
      .map((r) => r.name)
      .filter((n) => n.startsWith('layer-'))
      .map((n) => n.slice('layer-'.length));
    const folders = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !layered.includes(f))).toEqual([]);
    expect(layered.filter((f) => !folders.includes(f))).toEqual([]);
  });

  it('reports an upward import, a cycle and product code importing test code, naming the rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layers-'));
    try {
      const files: Record<string, string> = {
        'src/server/use-case.ts': "import { queue } from '../rpc/queue';\nexport const useCase = queue;\n",
        'src/rpc/queue.ts': 'export const queue = 1;\n',
        'src/coap/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
        'src/coap/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
        'src/lwm2m/codec.ts': "import { fixture } from '../../test/support/fixture';\nexport const codec = fixture;\n",
        'test/support/fixture.ts': 'export const fixture = 2;\n',
        'tsconfig.json': JSON.stringify({
          compilerOptions: { module: 'commonjs', strict: true },
          include: ['src/**/*.ts', 'test/**/*.ts'],
        }),
      };
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      const report = cruise(dir, join(REPO_ROOT, '.dependency-cruiser.cjs'));
      const found = report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
      expect(found).toEqual(
        expect.arrayContaining([
          'layer-server: src/server/use-case.ts → src/rpc/queue.ts',
          'no-circular: src/coap/a.ts → src/coap/b.ts',
          'product-not-to-test-code: src/lwm2m/codec.ts → test/support/fixture.ts',
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
