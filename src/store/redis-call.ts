/** Runs one Redis operation of a store; a failure becomes a retriable StoreUnavailableError naming it. */
import { StoreUnavailableError } from '../common/store-errors';
import { errorMessage } from '../common/error-message';

export async function redisCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError(`redis ${what} failed: ${errorMessage(err)}`, err);
  }
}
