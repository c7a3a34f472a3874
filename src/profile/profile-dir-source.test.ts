import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileDirSource } from './profile-dir-source';
import { ProfileRegistry, type ProfileChange } from './profile-registry';

let dir: string;
let source: ProfileDirSource | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'profiles-'));
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
});

const doc = (name: string, telemetry: string[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ name, observeAttr: { telemetry }, ...extra });

/** Resolves with the next change of `name`. */
function nextChange(registry: ProfileRegistry, name: string, timeoutMs = 10_000): Promise<ProfileChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no change of ${name} within ${timeoutMs} ms`)), timeoutMs);
    const off = registry.onChange((c) => {
      if (c.name !== name) return;
      clearTimeout(timer);
      off();
      resolve(c);
    });
  });
}

function start(
  registry: ProfileRegistry,
  errors: string[],
  opts: { dir?: string; rescanMs?: number } = {},
): Promise<void> {
  source = new ProfileDirSource({
    dir: opts.dir ?? dir,
    registry,
    debounceMs: 20,
    rescanMs: opts.rescanMs ?? 0,
    onError: (e, ctx) => errors.push(`${ctx}: ${String(e)}`),
  });
  return source.start();
}

describe('ProfileDirSource', () => {
  it('loads single and array files, ignoring hidden and non-JSON files', async () => {
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/9']));
    await writeFile(join(dir, 'b.json'), `[${doc('b1', ['/3/0/1'])}, ${doc('b2', ['/3/0/2'])}]`);
    await writeFile(join(dir, '.hidden.json'), doc('hidden', []));
    await writeFile(join(dir, 'notes.txt'), 'x');
    const registry = new ProfileRegistry();
    const errors: string[] = [];
    await start(registry, errors);
    expect(registry.names().sort()).toEqual(['a', 'b1', 'b2']);
    expect(errors).toEqual([]);
  });

  it('reloads a changed file when the watcher reports it', async () => {
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/9']));
    const registry = new ProfileRegistry();
    await start(registry, []);
    const changed = nextChange(registry, 'a');
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/10']));
    expect((await changed).profile?.definition.observeAttr.telemetry).toEqual(['/3/0/10']);
  });

  it('withdraws the profiles of a removed file, and profiles removed from a file', async () => {
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/9']));
    await writeFile(join(dir, 'b.json'), `[${doc('b1', [])}, ${doc('b2', [])}]`);
    const registry = new ProfileRegistry();
    await start(registry, []);
    await unlink(join(dir, 'a.json'));
    await writeFile(join(dir, 'b.json'), `[${doc('b1', [])}]`);
    await source?.scan();
    expect(registry.names()).toEqual(['b1']);
  });

  it('keeps the last valid profile while a file is invalid, and reports it once', async () => {
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/9']));
    const registry = new ProfileRegistry();
    const errors: string[] = [];
    await start(registry, errors);
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/zero/9']));
    await source?.scan();
    await source?.scan();
    expect(registry.get('a')?.definition.observeAttr.telemetry).toEqual(['/3/0/9']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/a\.json.*observeAttr\.telemetry\.0/s);
    await writeFile(join(dir, 'a.json'), '{ not json');
    await source?.scan();
    expect(errors[1]).toMatch(/not valid JSON/);
  });

  it('finds a directory created after start through the periodic rescan', async () => {
    const later = join(dir, 'later');
    const registry = new ProfileRegistry();
    const errors: string[] = [];
    await start(registry, errors, { dir: later, rescanMs: 25 });
    expect(errors[0]).toMatch(/reading profile directory/);
    const changed = nextChange(registry, 'late');
    await mkdir(later);
    await writeFile(join(later, 'late.json'), doc('late', ['/3/0/9']));
    expect((await changed).profile?.name).toBe('late');
    expect(errors).toHaveLength(1);
  });

  it('ignores a file whose stamps say it is older than what it gave before', async () => {
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/9'], { version: 3 }));
    const registry = new ProfileRegistry();
    const errors: string[] = [];
    await start(registry, errors);
    await writeFile(join(dir, 'a.json'), doc('a', ['/3/0/1'], { version: 2 }));
    await source?.scan();
    expect(registry.get('a')?.definition.version).toBe(3);
    expect(errors[0]).toMatch(/older than the version already loaded/);
  });
});
