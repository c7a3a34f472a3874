import { DeadlineQueue } from './deadline-queue';

describe('DeadlineQueue', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('passes results and errors through, rejects what is still pending at its deadline, in order', async () => {
    const q = new DeadlineQueue(1000, () => Date.now());
    const never = new Promise<number>(() => undefined);
    const outcomes: string[] = [];
    const track = (name: string, p: Promise<unknown>): void =>
      void p.then(
        () => outcomes.push(`${name} ok`),
        (e: Error) => outcomes.push(`${name} ${e.message}`),
      );
    track(
      'a',
      q.race(never, () => new Error('late')),
    );
    jest.advanceTimersByTime(400);
    track(
      'b',
      q.race(Promise.resolve(1), () => new Error('late')),
    );
    track(
      'c',
      q.race(Promise.reject(new Error('refused')), () => new Error('late')),
    );
    track(
      'd',
      q.race(never, () => new Error('late')),
    );
    await Promise.resolve();
    await Promise.resolve();
    expect(outcomes).toEqual(['b ok', 'c refused']);
    jest.advanceTimersByTime(599);
    await Promise.resolve();
    expect(outcomes).toHaveLength(2);
    jest.advanceTimersByTime(1);
    await Promise.resolve();
    expect(outcomes).toEqual(['b ok', 'c refused', 'a late']);
    jest.advanceTimersByTime(400);
    await Promise.resolve();
    expect(outcomes).toEqual(['b ok', 'c refused', 'a late', 'd late']);
    expect(q.size).toBe(0);
  });

  it('drops settled entries from its head as new ones arrive', async () => {
    const q = new DeadlineQueue(1000, () => Date.now());
    for (let i = 0; i < 100; i++) await q.race(Promise.resolve(i), () => new Error('late'));
    expect(q.size).toBe(1);
    q.close();
  });
});
