/**
 * Shutdown within a budget (SHUTDOWN_TIMEOUT_MS), as a kubelet expects after SIGTERM: named
 * steps run in order, each bounded by what is left of the budget. A step that does not finish
 * in time is abandoned and named in the report with what it left behind, so the process can
 * exit on time and say what it could not finish.
 */
import { errorMessage } from '../common/error-message';

export interface ShutdownStep {
  readonly name: string;
  run(remainingMs: number): Promise<void>;
  /** What is left undone when the step was cut short (e.g. "3 records not acknowledged"). */
  leftover?(): string;
}

export interface ShutdownReport {
  readonly elapsedMs: number;
  /** Steps that did not finish within the budget, or failed, each with what it left. */
  readonly unfinished: readonly { readonly step: string; readonly why: string }[];
}

export async function runShutdown(
  steps: readonly ShutdownStep[],
  budgetMs: number,
  now: () => number = Date.now,
): Promise<ShutdownReport> {
  const started = now();
  const unfinished: { step: string; why: string }[] = [];
  for (const step of steps) {
    const remaining = budgetMs - (now() - started);
    if (remaining <= 0) {
      // Still started, with nothing left to wait for: what it holds (sockets, threads) is released
      // at once instead of keeping an embedding process alive; its outcome is not awaited.
      step.run(0).catch(() => undefined);
      unfinished.push({
        step: step.name,
        why: `cut short: the budget of ${budgetMs} ms was spent before it${describe(step)}`,
      });
      continue;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, remaining, 'timeout')));
    try {
      const outcome = await Promise.race([step.run(remaining).then(() => 'done' as const), timedOut]);
      if (outcome === 'timeout')
        unfinished.push({ step: step.name, why: `cut short after ${remaining} ms${describe(step)}` });
    } catch (err) {
      unfinished.push({ step: step.name, why: `failed: ${errorMessage(err)}${describe(step)}` });
    } finally {
      clearTimeout(timer);
    }
  }
  return { elapsedMs: now() - started, unfinished };
}

function describe(step: ShutdownStep): string {
  const left = step.leftover?.();
  return left === undefined || left === '' ? '' : ` (${left})`;
}
