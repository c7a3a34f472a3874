/**
 * Deadlines that all have the same length, as every Send waiting for the bus does
 * (SEND_ACK_TIMEOUT_MS): they fall due in the order they were set, so one FIFO and one timer for
 * its head replace a timer per request (a setTimeout + clearTimeout pair per Send was a visible
 * part of the Send path). Entries that settled are dropped from the head as new ones arrive.
 */
interface Entry {
  readonly at: number;
  done: boolean;
  readonly expire: () => void;
}

export class DeadlineQueue {
  private queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Pending entries held (settled ones not yet dropped included); for tests. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Settles like `work`, or rejects with `onTimeout()` once timeoutMs have passed first. */
  race<T>(work: Promise<T>, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { at: this.now() + this.timeoutMs, done: false, expire: () => reject(onTimeout()) };
      this.dropSettled();
      this.queue.push(entry);
      if (this.timer === undefined) this.arm(this.timeoutMs);
      work.then(
        (v) => {
          entry.done = true;
          resolve(v);
        },
        (err: unknown) => {
          entry.done = true;
          reject(err);
        },
      );
    });
  }

  /** Stops the timer; entries still pending never expire (shutdown). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dropSettled(): void {
    while (this.head < this.queue.length && this.queue[this.head]?.done === true) this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, ms));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    for (let e = this.queue[this.head]; e !== undefined && (e.done || e.at <= now); e = this.queue[this.head]) {
      this.head++;
      if (!e.done) {
        e.done = true;
        e.expire();
      }
    }
    this.dropSettled();
    const next = this.queue[this.head];
    if (next !== undefined) this.arm(next.at - now);
  }
}
