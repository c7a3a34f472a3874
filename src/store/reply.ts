/**
 * Checked reading of script replies (EVAL answers are untyped). A reply of an unexpected
 * shape is a StoreError: it means a script and this code disagree, never a network problem.
 */
import { StoreError } from '../common/store-errors';

export function replyArray(reply: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(reply)) throw new StoreError(`unexpected Redis reply to ${what}: ${typeof reply}`);
  return reply;
}

export function replyString(reply: unknown, what: string): string {
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number') return String(reply);
  throw new StoreError(`unexpected Redis reply to ${what}: ${typeof reply}`);
}

export function replyNumber(reply: unknown, what: string): number {
  const n = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN;
  if (!Number.isFinite(n)) throw new StoreError(`unexpected Redis reply to ${what}: ${String(reply)}`);
  return n;
}

export function replyStrings(reply: unknown, what: string): string[] {
  return replyArray(reply, what).map((r) => replyString(r, what));
}
