/**
 * Prints the hottest functions of a V8 CPU profile (node --cpu-prof), by self time and by
 * inclusive time: `node dist/bench/cpuprofile-top.js <file.cpuprofile> [rows]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}

function main(): void {
  const [file, rowsArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: cpuprofile-top <file.cpuprofile> [rows]');
  const rows = Number(rowsArg ?? 30);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id);
    if (node === undefined) return;
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    // Each function once per sample, however deep its recursion.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur) as ProfileNode);
      if (!seen.has(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      seen.add(l);
    }
  });
  const print = (title: string, m: Map<string, number>): void => {
    process.stdout.write(`${title} (of ${(total / 1e6).toFixed(2)} s sampled)\n`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(6)}%  ${k}\n`);
    }
  };
  print('self time', self);
  process.stdout.write('\n');
  print('inclusive time', inclusive);
}

main();
