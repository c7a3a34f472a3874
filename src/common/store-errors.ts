/**
 * Errors of the session stores. Both belong to the bridge's one hierarchy (src/common/errors.ts).
 *
 * - `StoreUnavailableError` (STORE_UNAVAILABLE, retriable): the store could not be reached or
 *   answered "try again" (connection refused or lost, command timeout, LOADING, BUSY, TRYAGAIN,
 *   CLUSTERDOWN...). The server answers such a request with 5.03 Service Unavailable + Max-Age
 *   (RFC 7252 §5.9.3.4) and the device retries.
 * - `StoreError` (STORE, not retriable): the store answered, but with something this bridge
 *   cannot use: a corrupt or too-new record, a script error, an operation on a registration
 *   that is no longer current.
 */
import { BridgeError } from './errors';

export class StoreUnavailableError extends BridgeError {
  constructor(message: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', message, cause === undefined ? { retriable: true } : { retriable: true, cause });
  }
}

export class StoreError extends BridgeError {
  constructor(message: string, cause?: unknown) {
    super('STORE', message, cause === undefined ? { retriable: false } : { retriable: false, cause });
  }
}
