/**
 * Main-thread handle on worker threads that answer each command with exactly one reply, in
 * order (as bench/generator.ts, for any command and reply types; a reply of kind "error" rejects).
 */
import { Worker } from 'node:worker_threads';

interface Kinded {
  readonly kind: string;
}

class Channel<C, R extends Kinded> {
  private waiting: ((r: R | Error) => void)[] = [];
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (r: R) => this.waiting.shift()?.(r));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`worker exited with code ${code}`)));
  }

  call(cmd: C): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      this.waiting.push((r) => {
        if (r instanceof Error) reject(r);
        else if (r.kind === 'error') reject(new Error(`worker: ${'message' in r ? String(r.message) : 'failed'}`));
        else resolve(r);
      });
      this.worker.postMessage(cmd);
    });
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiting.splice(0)) w(err);
  }
}

export class WorkerPool<C, R extends Kinded> {
  private readonly channels: Channel<C, R>[];

  constructor(file: string, workers: number) {
    this.channels = Array.from({ length: workers }, () => new Channel<C, R>(new Worker(file)));
  }

  get size(): number {
    return this.channels.length;
  }

  /** Sends each worker its own command (by index) and waits for all replies, which must be of `kind`. */
  async all<K extends R['kind']>(kind: K, cmd: (worker: number) => C): Promise<Extract<R, { kind: K }>[]> {
    const replies = await Promise.all(this.channels.map((c, i) => c.call(cmd(i))));
    return replies.map((r) => {
      if (r.kind !== kind) throw new Error(`worker answered ${r.kind}, expected ${kind}`);
      return r as Extract<R, { kind: K }>;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.worker.terminate()));
  }
}
