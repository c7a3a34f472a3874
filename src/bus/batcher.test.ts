import { Batcher, type BatcherOptions } from './batcher';
import type { EncodedRecord } from './encode';
import { BusRejectedError, BusUnavailableError } from './types';

/** A send whose outcome the test decides, batch by batch. */
class ScriptedSend {
  readonly batches: string[][] = [];
  private waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private arrived: Array<() => void> = [];
  auto: 'ack' | 'fail' | 'hold' = 'hold';

  readonly send = (batch: readonly EncodedRecord[]): Promise<void> => {
    this.batches.push(batch.map((r) => r.key));
    for (const a of this.arrived.splice(0)) a();
    if (this.auto === 'ack') return Promise.resolve();
    if (this.auto === 'fail') return Promise.reject(new Error('broker down'));
    return new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  };

  /** Resolves once `n` batches in all were sent. */
  async sent(n: number): Promise<void> {
    while (this.batches.length < n) await new Promise<void>((r) => this.arrived.push(r));
  }

  ack(): void {
    this.waiting.shift()?.resolve();
  }

  fail(err: Error = new Error('broker down')): void {
    this.waiting.shift()?.reject(err);
  }
}

const rec = (key: string, bytes = 10): EncodedRecord => ({
  topic: 't',
  key,
  value: 'x'.repeat(bytes),
  headers: {},
  bytes,
});

function batcher(send: ScriptedSend, over: Partial<BatcherOptions> = {}): Batcher {
  return new Batcher({
    lingerMs: 1,
    maxBatchRecords: 100,
    maxBatchBytes: 10_000,
    maxBufferedRecords: 1000,
    maxBufferedBytes: 100_000,
    unavailableAfterMs: 60_000,
    retryInitialMs: 1,
    retryMaxMs: 5,
    send: send.send,
    ...over,
  });
}

describe('Batcher', () => {
  it('groups records of many publish() calls into one send', async () => {
    const s = new ScriptedSend();
    s.auto = 'ack';
    const b = batcher(s);
    await Promise.all(['a', 'b', 'c', 'd'].map((k) => b.publish([rec(k)])));
    expect(s.batches).toEqual([['a', 'b', 'c', 'd']]);
    expect(b.stats()).toMatchObject({
      published: 4,
      bufferedRecords: 0,
      bufferedBytes: 0,
      batches: 1,
      available: true,
    });
  });

  it('splits at maxBatchRecords and maxBatchBytes, one batch in flight at a time', async () => {
    const s = new ScriptedSend();
    const b = batcher(s, { maxBatchRecords: 3, maxBatchBytes: 45 });
    const p = b.publish(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => rec(k)));
    const big = b.publish([rec('h', 30), rec('i', 30)]);
    await s.sent(1);
    expect(s.batches).toEqual([['a', 'b', 'c']]); // sent at once: the batch was full
    s.ack();
    await s.sent(2);
    s.ack();
    await s.sent(3);
    s.ack();
    await s.sent(4);
    s.ack();
    await Promise.all([p, big]);
    expect(s.batches).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g', 'h'], ['i']]);
  });

  it('resolves publishes in publish order, each only when its last record is acknowledged', async () => {
    const s = new ScriptedSend();
    const b = batcher(s, { maxBatchRecords: 2 });
    const order: string[] = [];
    const p1 = b.publish([rec('a'), rec('b'), rec('c')]).then(() => order.push('p1'));
    const p2 = b.publish([rec('d')]).then(() => order.push('p2'));
    await s.sent(1);
    s.ack(); // a, b: p1 still waits for c
    await s.sent(2);
    expect(order).toEqual([]);
    s.ack(); // c, d
    await Promise.all([p1, p2]);
    expect(order).toEqual(['p1', 'p2']);
  });

  it('reports the latency of each resolved publish', async () => {
    const s = new ScriptedSend();
    s.auto = 'ack';
    const seen: number[] = [];
    const b = batcher(s, { onLatency: (ms) => seen.push(ms) });
    await Promise.all([b.publish([rec('a')]), b.publish([rec('b'), rec('c')])]);
    expect(seen).toHaveLength(2);
    for (const ms of seen) expect(ms).toBeGreaterThanOrEqual(0);
  });

  it('fails fast when the buffer is full, in records or in bytes, and counts the refusals', async () => {
    const s = new ScriptedSend();
    const b = batcher(s, { maxBufferedRecords: 3, maxBufferedBytes: 35 });
    const held = b.publish([rec('a'), rec('b')]);
    await expect(b.publish([rec('c'), rec('d')])).rejects.toBeInstanceOf(BusUnavailableError);
    await expect(b.publish([rec('c', 20)])).rejects.toBeInstanceOf(BusUnavailableError);
    const last = b.publish([rec('c')]);
    expect(b.stats()).toMatchObject({ bufferedRecords: 3, bufferedBytes: 30, failed: 3, available: false });
    await s.sent(1);
    s.ack();
    await Promise.all([held, last]);
    expect(b.stats()).toMatchObject({ bufferedRecords: 0, available: true, published: 3 });
  });

  it('refuses for good what can never fit: a record over maxBatchBytes, a publish over the whole buffer', async () => {
    const s = new ScriptedSend();
    const b = batcher(s, { maxBatchBytes: 100, maxBufferedRecords: 2 });
    await expect(b.publish([rec('huge', 101)])).rejects.toBeInstanceOf(BusRejectedError);
    await expect(b.publish([rec('a'), rec('b'), rec('c')])).rejects.toBeInstanceOf(BusRejectedError);
    expect(s.batches).toEqual([]);
  });

  it('retries a failed batch unchanged and before later records, then recovers', async () => {
    const s = new ScriptedSend();
    const errors: number[] = [];
    const b = batcher(s, { onSendError: (_e, attempt) => errors.push(attempt) });
    const first = b.publish([rec('a'), rec('b')]);
    await s.sent(1);
    const second = b.publish([rec('c')]);
    s.fail();
    await s.sent(2);
    s.fail();
    await s.sent(3);
    s.ack();
    await first;
    await s.sent(4);
    s.ack();
    await second;
    expect(s.batches).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['c']]);
    expect(errors).toEqual([0, 1]);
    expect(b.stats()).toMatchObject({ sendErrors: 2, published: 3, available: true });
  });

  it('becomes unavailable when nothing was acknowledged for unavailableAfterMs, and recovers by itself', async () => {
    let now = 1_000;
    const s = new ScriptedSend();
    s.auto = 'fail';
    const b = batcher(s, { unavailableAfterMs: 500, now: () => now });
    const buffered = b.publish([rec('a')]);
    await s.sent(3); // retrying in the background
    expect(b.stats().available).toBe(true);
    const stillAccepted = b.publish([rec('b')]);
    now += 501;
    expect(b.stats().available).toBe(false);
    await expect(b.publish([rec('c')])).rejects.toThrow(/acknowledged nothing for 501 ms/);
    s.auto = 'ack';
    await Promise.all([buffered, stillAccepted]); // delivered once the broker is back
    expect(b.stats()).toMatchObject({ available: true, bufferedRecords: 0, published: 2, failed: 1 });
    await b.publish([rec('d')]);
    expect(s.batches.at(-1)).toEqual(['d']);
  });

  it('rejects the publishes of a batch the broker refuses for good, and goes on', async () => {
    const s = new ScriptedSend();
    const b = batcher(s, { isPermanent: (e) => e instanceof Error && e.message === 'too large' });
    const refused = b.publish([rec('a')]);
    await s.sent(1);
    const next = b.publish([rec('b')]);
    s.fail(new Error('too large'));
    await expect(refused).rejects.toBeInstanceOf(BusRejectedError);
    await s.sent(2);
    s.ack();
    await next;
    expect(b.stats()).toMatchObject({ failed: 1, published: 1, bufferedRecords: 0 });
  });

  it('flushes on close without waiting for the linger, then refuses new records', async () => {
    const s = new ScriptedSend();
    s.auto = 'ack';
    const b = batcher(s, { lingerMs: 60_000 });
    const p = b.publish([rec('a')]);
    expect(await b.close(5_000)).toBe(true);
    await p;
    await expect(b.publish([rec('b')])).rejects.toThrow(/closed/);
    expect(b.stats().available).toBe(false);
  });

  it('rejects what it could not flush before the close timeout, in flight and queued alike', async () => {
    const s = new ScriptedSend();
    const b = batcher(s, { maxBatchRecords: 1 });
    const inFlight = b.publish([rec('a')]);
    const queued = b.publish([rec('b')]);
    await s.sent(1);
    expect(await b.close(20)).toBe(false);
    await expect(inFlight).rejects.toThrow(/closed before 2 records were accepted/);
    await expect(queued).rejects.toBeInstanceOf(BusUnavailableError);
    s.ack(); // a late acknowledgement changes nothing
    expect(b.stats()).toMatchObject({ bufferedRecords: 0, bufferedBytes: 0, failed: 2, published: 0 });
  });
});
