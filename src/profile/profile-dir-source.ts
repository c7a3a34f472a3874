/**
 * Profiles from a directory: every `*.json` file (not hidden) holds one profile document or an
 * array of them. The directory is watched (fs.watch, debounced) and rescanned periodically as a
 * fallback, since fs.watch misses changes on some file systems (network mounts, some container
 * volumes). A changed file is re-read; a removed file (or a profile removed from a file)
 * withdraws its profiles. An invalid file is reported and its last valid profiles stay in force.
 * Kubernetes ConfigMap volumes work: their `..data` links are hidden and files are symlinks.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ProfileError } from './errors';
import type { ProfileRegistry, ProfileSource } from './profile-registry';
import { parseProfile, type ProfileDefinition } from './schema';
import { errorMessage } from '../common/error-message';

export interface ProfileDirSourceOptions {
  readonly dir: string;
  readonly registry: ProfileRegistry;
  /** Quiet time after a change event before the directory is scanned (default 200 ms). */
  readonly debounceMs?: number;
  /** Period of the fallback rescan (default 30 s); 0 disables it. */
  readonly rescanMs?: number;
  readonly onError?: (err: unknown, context: string) => void;
}

interface FileState {
  readonly stamp: string;
  readonly names: readonly string[];
}

export class ProfileDirSource implements ProfileSource {
  private readonly files = new Map<string, FileState>();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private dirProblem: string | undefined;
  private stopped = false;

  constructor(private readonly opts: ProfileDirSourceOptions) {}

  async start(): Promise<void> {
    await this.scan();
    const period = this.opts.rescanMs ?? 30_000;
    if (period > 0) {
      this.rescan = setInterval(() => void this.scan(), period);
      this.rescan.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rescan) clearInterval(this.rescan);
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
    await this.scanning;
  }

  /** Scans now (serialised: a scan requested during a scan runs once more afterwards). */
  scan(): Promise<void> {
    if (this.scanning !== undefined) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        await this.scanOnce().catch((err: unknown) => this.report(err, `scanning profile directory ${this.opts.dir}`));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private ensureWatching(): void {
    if (this.watcher !== undefined || this.stopped) return;
    try {
      this.watcher = watch(this.opts.dir, { persistent: false }, () => this.changed());
      this.watcher.on('error', (err) => {
        this.report(err, `watching profile directory ${this.opts.dir}`);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.report(err, `watching profile directory ${this.opts.dir} (rescans continue)`);
    }
  }

  private changed(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.scan(), this.opts.debounceMs ?? 200);
    this.debounce.unref();
  }

  private async scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.opts.dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    } catch (err) {
      // The profiles already loaded stay in force while the directory is unreadable.
      const problem = errorMessage(err);
      if (this.dirProblem !== problem) this.report(err, `reading profile directory ${this.opts.dir}`);
      this.dirProblem = problem;
      return;
    }
    this.dirProblem = undefined;
    this.ensureWatching();
    for (const name of names) await this.loadFile(name);
    for (const [name, state] of [...this.files]) {
      if (names.includes(name)) continue;
      this.withdraw(name, state.names);
      this.files.delete(name);
    }
  }

  private async loadFile(name: string): Promise<void> {
    const file = join(this.opts.dir, name);
    let stamp: string;
    try {
      const st = await stat(file);
      if (!st.isFile()) return;
      stamp = `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`;
    } catch {
      return; // removed meanwhile: the next pass withdraws it
    }
    const known = this.files.get(name);
    if (known?.stamp === stamp) return;
    const origin = `file:${file}`;
    let defs: ProfileDefinition[];
    try {
      defs = parseFile(await readFile(file, 'utf8'), origin);
    } catch (err) {
      this.report(err, `loading profile file ${file}`);
      this.files.set(name, { stamp, names: known?.names ?? [] }); // reported once per version of the file
      return;
    }
    const loaded = defs.map((d) => d.name);
    this.withdraw(
      name,
      (known?.names ?? []).filter((n) => !loaded.includes(n)),
    );
    for (const def of defs) {
      if (this.opts.registry.put(def, origin) === 'stale') {
        this.report(
          new ProfileError(
            `profile "${def.name}" from ${origin} is older than the version already loaded from it; ignored`,
          ),
          `loading profile file ${file}`,
        );
      }
    }
    this.files.set(name, { stamp, names: loaded });
  }

  private withdraw(name: string, profileNames: readonly string[]): void {
    const origin = `file:${join(this.opts.dir, name)}`;
    for (const n of profileNames) this.opts.registry.delete(n, origin);
  }

  private report(err: unknown, context: string): void {
    this.opts.onError?.(err, context);
  }
}

function parseFile(text: string, origin: string): ProfileDefinition[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`${origin} is not valid JSON: ${errorMessage(err)}`);
  }
  const docs = Array.isArray(doc) ? doc : [doc];
  const defs = docs.map((d, i) => parseProfile(d, docs.length > 1 ? `${origin}[${i}]` : origin));
  const names = defs.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ProfileError(`${origin} defines profile "${dup}" twice`);
  return defs;
}
