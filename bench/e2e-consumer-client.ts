/**
 * Starts bench/e2e-consumer.js as a child process (through util-linux setpriv when present, so
 * the kernel kills it if the bench dies) and talks to it over the IPC channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsumerCommand, ConsumerReply, ConsumedWindow } from './e2e-consumer-protocol';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));

export class ConsumerProcess {
  private waiting: ((r: ConsumerReply) => void)[] = [];
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (r: ConsumerReply) => this.waiting.shift()?.(r));
    const keep = (d: Buffer): void => void (this.output = (this.output + d.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      for (const w of this.waiting.splice(0))
        w({ kind: 'error', message: `consumer exited (${code ?? signal}): ${this.output}` });
    });
  }

  static async start(
    brokers: readonly string[],
    topic: string,
    groupId: string,
    epochMs: number,
  ): Promise<ConsumerProcess> {
    const file = join(__dirname, 'e2e-consumer.js');
    const [command, args] =
      SETPRIV !== undefined
        ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, file]]
        : [process.execPath, [file]];
    const c = new ConsumerProcess(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
    try {
      await c.call({ kind: 'start', brokers, topic, groupId, epochMs }, 60_000);
    } catch (err) {
      c.kill();
      throw err;
    }
    return c;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async collect(
    t0Ms: number,
    t1Ms: number,
    until: ReadonlyArray<{ partition: number; offset: number }>,
    timeoutMs: number,
  ): Promise<ConsumedWindow> {
    const r = await this.call({ kind: 'collect', t0Ms, t1Ms, until, timeoutMs }, timeoutMs + 30_000);
    if (r.kind !== 'collected') throw new Error(`consumer answered ${r.kind}`);
    return r.result;
  }

  async pause(): Promise<void> {
    await this.call({ kind: 'pause' }, 10_000);
  }

  async resume(): Promise<void> {
    await this.call({ kind: 'resume' }, 10_000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.call({ kind: 'stop' }, 10_000).catch(() => undefined);
    this.child.disconnect?.();
    this.kill();
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private call(cmd: ConsumerCommand, timeoutMs: number): Promise<ConsumerReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`consumer did not answer ${cmd.kind} within ${timeoutMs} ms: ${this.output}`)),
        timeoutMs,
      );
      this.waiting.push((r) => {
        clearTimeout(timer);
        if (r.kind === 'error') reject(new Error(`consumer: ${r.message}`));
        else resolve(r);
      });
      this.child.send(cmd);
    });
  }
}
