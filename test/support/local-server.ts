/**
 * The lifecycle every locally started test server shares (redis-server.ts, kafka-broker.ts): one
 * process at a time in its own temporary directory, down/up/restart for outage tests, a final
 * stop() that removes the directory, and the console output of every run for diagnostics.
 */
import { rm } from 'node:fs/promises';
import { forgetTempDir, type ManagedProcess } from '../infra/managed-process';

export abstract class LocalServer {
  protected process: ManagedProcess | undefined;
  /** Console output of earlier runs (before a restart), for logs(). */
  private earlierOutput = '';
  private stopped = false;

  constructor(
    readonly dir: string,
    /** What it is, for messages: "Redis server", "Kafka broker". */
    private readonly what: string,
    private readonly stopGraceMs: number,
  ) {}

  /** Spawns the server process (on the configured port). */
  protected abstract spawn(): ManagedProcess;

  /** Resolves once the server answers; rejects early when `child` exits. */
  protected abstract waitReady(child: ManagedProcess): Promise<void>;

  /** The error a failed start rejects with (the wait's own by default). */
  protected startFailure(error: unknown): unknown {
    return error;
  }

  isRunning(): boolean {
    return this.process !== undefined && this.process.exit === undefined;
  }

  /** Starts the process and waits until it answers; stops it again when it does not. */
  async launch(): Promise<void> {
    if (this.stopped) throw new Error(`this ${this.what} was stopped for good (stop()); start a new one`);
    if (this.isRunning()) return;
    if (this.process !== undefined) this.earlierOutput += this.process.output();
    const child = this.spawn();
    this.process = child;
    try {
      await this.waitReady(child);
    } catch (error) {
      await child.stop(this.stopGraceMs);
      throw this.startFailure(error);
    }
  }

  /** SIGSTOP: the process holds its sockets but answers nothing (an unreachable server). */
  pause(): void {
    const pid = this.process?.pid;
    if (pid !== undefined && this.isRunning()) process.kill(pid, 'SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    const pid = this.process?.pid;
    if (pid !== undefined && this.isRunning()) process.kill(pid, 'SIGCONT');
  }

  async down(): Promise<void> {
    if (this.process === undefined) return;
    await this.process.stop(this.stopGraceMs);
  }

  async up(): Promise<void> {
    await this.launch();
  }

  async restart(): Promise<void> {
    await this.down();
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.down();
    await rm(this.dir, { recursive: true, force: true });
    forgetTempDir(this.dir);
  }

  /** Forgets earlier runs (their process and output): for a fresh start in the same directory. */
  protected forgetRuns(): void {
    this.earlierOutput = '';
    this.process = undefined;
  }

  /** Console output of every run so far. */
  protected consoleOutput(): string {
    return this.earlierOutput + (this.process?.output() ?? '');
  }
}
