/** Runs one Redis operation of a store; a failure becomes a retriable StoreUnavailableError naming it. */
import { StoreUnavailableError } from '../errors';

export async function redisCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError(`redis ${what} failed: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}
