/**
 * The test side of the device fleet: starts ./fleet-worker.ts (compiled, under dist/) inside the
 * devices' network namespace and sends it commands over IPC, each bounded in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/test-deps';
import type { FleetCommand, FleetConfig, FleetNotice, FleetReply, FleetStats } from './fleet-protocol';

const WORKER = join(REPO_ROOT, 'dist', 'test', 'cluster', 'fleet-worker.js');

type Body<C> = C extends FleetCommand ? Omit<C, 'id'> : never;

export class Fleet {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: FleetReply) => void>();
  private exited: string | undefined;
  private stderr = '';
  /** Called with what the fleet reports unasked. */
  onNotice: ((n: FleetNotice) => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (r: FleetReply | FleetNotice) => {
      if ('notice' in r) return this.onNotice?.(r);
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-8000)));
    child.on('exit', (code, signal) => {
      this.exited = `the fleet worker exited (${code ?? signal}): ${this.stderr}`;
      for (const w of this.waiting.values()) w({ id: 0, ok: false, error: this.exited });
      this.waiting.clear();
    });
  }

  static start(netns: string): Fleet {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run "npm run build" first (npm test does)`);
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, WORKER], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    return new Fleet(child);
  }

  private call(body: Body<FleetCommand>, timeoutMs: number): Promise<FleetReply & { ok: true }> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the fleet did not answer ${body.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r);
        else reject(new Error(`fleet ${body.cmd}: ${r.error}`));
      });
      this.child.send({ ...body, id } as FleetCommand);
    });
  }

  async open(config: FleetConfig): Promise<FleetStats> {
    return (await this.call({ cmd: 'open', config }, 180_000)).stats as FleetStats;
  }

  async load(on: boolean): Promise<void> {
    await this.call({ cmd: 'load', on }, 10_000);
  }

  async hold(endpoints: readonly string[]): Promise<void> {
    await this.call({ cmd: 'hold', endpoints }, 40_000);
  }

  async update(endpoints: readonly string[]): Promise<FleetStats> {
    return (await this.call({ cmd: 'update', endpoints }, 60_000)).stats as FleetStats;
  }

  async ports(endpoints: readonly string[]): Promise<Record<string, number>> {
    return (await this.call({ cmd: 'ports', endpoints }, 10_000)).ports ?? {};
  }

  async settle(timeoutMs = 60_000): Promise<FleetStats> {
    return (await this.call({ cmd: 'settle', timeoutMs }, timeoutMs + 10_000)).stats as FleetStats;
  }

  async stats(): Promise<FleetStats> {
    return (await this.call({ cmd: 'stats' }, 10_000)).stats as FleetStats;
  }

  stop(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }
}
