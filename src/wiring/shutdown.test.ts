/** The shutdown budget: steps in order, each bounded by what is left, the unfinished ones named. */
import { runShutdown, type ShutdownStep } from './shutdown';

const budgets: number[] = [];
const step = (name: string, ms: number, log: string[], leftover?: string): ShutdownStep => ({
  name,
  run: (left) => (
    budgets.push(left),
    new Promise<void>((resolve) => void setTimeout(() => (log.push(name), resolve()), ms).unref())
  ),
  ...(leftover !== undefined ? { leftover: () => leftover } : {}),
});

describe('runShutdown', () => {
  it('runs every step in order when the budget allows', async () => {
    const log: string[] = [];
    const report = await runShutdown([step('a', 5, log), step('b', 1, log), step('c', 1, log)], 1000);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(report.unfinished).toEqual([]);
  });

  it('cuts a step short at the budget, names it with what it left, and gives the rest no time', async () => {
    const log: string[] = [];
    budgets.length = 0;
    const started = Date.now();
    const report = await runShutdown(
      [step('quick', 1, log), step('stuck', 60_000, log, '1 RPC in flight'), step('after', 1, log, '2 records')],
      200,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log).toEqual(['quick']);
    expect(report.unfinished.map((u) => u.step)).toEqual(['stuck', 'after']);
    expect(report.unfinished[0]?.why).toMatch(/^cut short after \d+ ms \(1 RPC in flight\)$/);
    expect(report.unfinished[1]?.why).toMatch(/^cut short: the budget of 200 ms was spent before it \(2 records\)$/);
    // Started with no time left, so that what it holds is released, but not waited for.
    expect(budgets).toEqual([expect.any(Number), expect.any(Number), 0]);
  });

  it('reports a failing step and goes on with the next', async () => {
    const log: string[] = [];
    const failing: ShutdownStep = { name: 'redis', run: () => Promise.reject(new Error('connection lost')) };
    const report = await runShutdown([failing, step('http', 1, log)], 1000);
    expect(log).toEqual(['http']);
    expect(report.unfinished).toEqual([{ step: 'redis', why: 'failed: connection lost' }]);
  });
});
