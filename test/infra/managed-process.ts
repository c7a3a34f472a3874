/**
 * Long-running child processes of the test infrastructure (Kafka broker, Redis server): spawn,
 * keep a bounded tail of their output, stop them (SIGTERM, then SIGKILL after a grace period,
 * awaited), and make sure none outlives the Node process that started it:
 *   - each child is started through util-linux `setpriv --pdeathsig KILL` (when present), so the
 *     kernel kills it when its Node process dies, however it dies (even SIGKILL, or a jest worker
 *     being killed);
 *   - 'exit', SIGINT, SIGTERM and SIGHUP handlers on the real `process` kill the children and
 *     remove their temporary directories (see registry() for how they reach test files);
 *   - temporary directories carry the owner's pid; ones whose owner is gone are removed by the
 *     next createTempDir.
 * Also: free TCP ports and bounded polling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../support/test-deps';
import { errorMessage } from '../../src/common/error-message';

const OUTPUT_LIMIT = 64 * 1024;

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  readonly error?: Error;
}

export function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `could not be started: ${exit.error.message}`;
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
}

export interface SpawnOptions {
  /** Short name for messages, e.g. "Kafka broker". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run inside this network namespace (`ip netns exec`, which execs: same pid). */
  readonly netns?: string;
}

interface CleanupRegistry {
  /** Every child started and not yet known to have exited, killed when this process goes. */
  readonly running: Set<{ killNow(): void }>;
  /** Temporary directories removed when this process goes, unless removed before. */
  readonly tempDirs: Set<string>;
}

const REGISTRY_KEY: unique symbol = Symbol.for('lwm2m-bridge.test-infra.cleanup-registry');
type RegistryHolder = NodeJS.Process & { [REGISTRY_KEY]?: () => CleanupRegistry };

function killAllNow(registry: CleanupRegistry): void {
  for (const child of registry.running) child.killNow();
  for (const dir of registry.tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while exiting
    }
  }
  registry.tempDirs.clear();
}

/**
 * The one registry of this process, with its 'exit' and signal handlers installed once. It hangs
 * on `process` as a function, which jest's sandboxed copies of `process` (made for each test file
 * after globalSetup ran) share rather than deep-copy: so children that a test file starts in the
 * jest process itself (in-band runs) are covered by the handlers globalSetup installed.
 */
function registry(): CleanupRegistry {
  const holder: RegistryHolder = process;
  const existing = holder[REGISTRY_KEY];
  if (existing !== undefined) return existing();
  const created: CleanupRegistry = { running: new Set(), tempDirs: new Set() };
  holder[REGISTRY_KEY] = () => created;
  process.once('exit', () => killAllNow(created));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllNow(created);
      // When nobody else handles the signal, keep its default effect: end this process.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
  return created;
}

/** Installs the process-wide cleanup now (jest globalSetup calls it before test files load). */
export function installProcessCleanup(): void {
  registry();
}

const TEMP_PREFIX = 'lwm2m-test-';
const TEMP_DIR_PATTERN = /^lwm2m-test-[a-z0-9]+-(\d+)-/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary directories left by test processes that died without cleaning up. */
function removeStaleTempDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const owner = TEMP_DIR_PATTERN.exec(name)?.[1];
    if (owner === undefined || Number(owner) === process.pid || isAlive(Number(owner))) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // another process may be removing it too
    }
  }
}

/**
 * A fresh directory under the OS temp dir, named lwm2m-test-<kind>-<pid>-XXXXXX, removed when
 * this process exits unless removed before (then call forgetTempDir).
 */
export async function createTempDir(kind: string): Promise<string> {
  removeStaleTempDirs();
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${kind}-${process.pid}-`));
  registry().tempDirs.add(dir);
  return dir;
}

export function forgetTempDir(dir: string): void {
  registry().tempDirs.delete(dir);
}

let setprivPath: string | null | undefined;

/** util-linux setpriv, when on PATH (Linux only). */
function findSetpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = process.platform === 'linux' ? (findOnPath('setpriv') ?? null) : null;
  }
  return setprivPath ?? undefined;
}

export class ManagedProcess {
  private outputText = '';
  private exitInfo: ProcessExit | undefined;
  /** Resolves once the process has exited (or failed to spawn); never rejects. */
  readonly exited: Promise<ProcessExit>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise<ProcessExit>((resolve) => {
      const finish = (exit: ProcessExit): void => {
        if (this.exitInfo !== undefined) return;
        this.exitInfo = exit;
        registry().running.delete(this);
        resolve(exit);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.once('error', (error) => {
        // 'error' without a pid: the spawn itself failed and no 'exit' will follow.
        if (child.pid === undefined) finish({ code: null, signal: null, error });
      });
    });
    const append = (chunk: Buffer): void => {
      this.outputText += chunk.toString('utf8');
      if (this.outputText.length > OUTPUT_LIMIT) this.outputText = this.outputText.slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
  }

  static spawn(options: SpawnOptions): ManagedProcess {
    const setpriv = findSetpriv();
    const inner =
      options.netns !== undefined
        ? ['ip', 'netns', 'exec', options.netns, options.command, ...options.args]
        : [options.command, ...options.args];
    // setpriv sets the parent-death signal, then execs the command (same pid).
    const [command, args] =
      setpriv !== undefined ? [setpriv, ['--pdeathsig', 'KILL', '--', ...inner]] : [inner[0] as string, inner.slice(1)];
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const managed = new ManagedProcess(options.name, child);
    registry().running.add(managed);
    return managed;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** undefined while the process runs. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** The last 64 KiB of its stdout and stderr, interleaved. */
  output(): string {
    return this.outputText;
  }

  /** SIGTERM, then SIGKILL when it has not exited after graceMs; resolves once it has exited. */
  async stop(graceMs: number): Promise<ProcessExit> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killer = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    try {
      await Promise.race([this.exited, killer]);
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, synchronously (for exit handlers). */
  killNow(): void {
    if (this.exitInfo === undefined) this.child.kill('SIGKILL');
  }
}

/**
 * `count` distinct TCP ports free on `host` right now: binds each to port 0, reads the port the
 * kernel chose, then releases them all. Another process could take one before it is used, so
 * callers that bind later should detect "address in use" and retry with new ports.
 */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host, exclusive: true }, () => resolve());
      });
      ports.push((server.address() as AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

export interface PollOptions {
  /** Overall bound; the last error is reported when it passes. */
  readonly timeoutMs: number;
  /** Pause between two attempts. */
  readonly intervalMs: number;
  /** What is being waited for, for the timeout message. */
  readonly what: string;
  /** Checked before each attempt: a message makes the wait fail at once (e.g. the process died). */
  readonly abortReason?: () => string | undefined;
}

/** Calls `attempt` until it resolves, at most `timeoutMs` overall; rejects with the last error. */
export async function pollUntil<T>(attempt: () => Promise<T>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: string;
  for (;;) {
    const abort = options.abortReason?.();
    if (abort !== undefined) throw new Error(`${options.what}: ${abort}`);
    try {
      return await attempt();
    } catch (error) {
      lastError = errorMessage(error);
    }
    if (Date.now() + options.intervalMs > deadline) {
      throw new Error(`${options.what}: not ready after ${options.timeoutMs} ms (last error: ${lastError})`);
    }
    await new Promise<void>((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
