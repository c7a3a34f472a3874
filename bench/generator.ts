/**
 * Main-thread handle on the load-generator workers: one request/reply channel per worker.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Command, Reply } from './protocol';

class WorkerChannel {
  private waiting: ((r: Reply) => void)[] = [];
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (r: Reply) => this.waiting.shift()?.(r));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`load-generator worker exited with code ${code}`)));
  }

  call(cmd: Command): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push((r) => (r.kind === 'error' ? reject(new Error(`load generator: ${r.message}`)) : resolve(r)));
      this.worker.postMessage(cmd);
    });
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiting.splice(0)) w({ kind: 'error', message: err.message });
  }
}

export class LoadGenerator {
  private constructor(private readonly channels: WorkerChannel[]) {}

  static start(workers: number): LoadGenerator {
    const file = join(__dirname, 'load-generator.js');
    return new LoadGenerator(Array.from({ length: workers }, () => new WorkerChannel(new Worker(file))));
  }

  get size(): number {
    return this.channels.length;
  }

  /** Sends each worker its own command (by worker index) and waits for all replies. */
  async all<K extends Reply['kind']>(
    kind: K,
    cmd: (worker: number) => Command,
  ): Promise<Extract<Reply, { kind: K }>[]> {
    const replies = await Promise.all(this.channels.map((c, i) => c.call(cmd(i))));
    return replies.map((r) => {
      if (r.kind !== kind) throw new Error(`load generator answered ${r.kind}, expected ${kind}`);
      return r as Extract<Reply, { kind: K }>;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.worker.terminate()));
  }
}

/** Worker i's contiguous share of `total` items: [first, first + count). */
export function shareOf(total: number, workers: number, i: number): { first: number; count: number } {
  const base = Math.floor(total / workers);
  const extra = total % workers;
  return { first: i * base + Math.min(i, extra), count: base + (i < extra ? 1 : 0) };
}
