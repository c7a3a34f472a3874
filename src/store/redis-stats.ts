/**
 * Counters of the Redis stores: plain fields incremented on the hot path, read by the metrics
 * module at scrape time (as CoapStats is). One object may be shared by both stores.
 *
 * `operations[op].commands / operations[op].calls` is the number of Redis commands per call of a
 * store operation; a notification costs getObservation + getById (zero commands on cache hits).
 */
export type StoreOperation =
  | 'register'
  | 'update'
  | 'deregister'
  | 'getById'
  | 'getByEndpoint'
  | 'getByAddress'
  | 'takeExpired'
  | 'count'
  | 'list'
  | 'markSeen'
  | 'addObservation'
  | 'getObservation'
  | 'removeObservation'
  | 'listObservations'
  | 'removeObservations'
  | 'invalidate'
  | 'rpcQueue'
  | 'rpcSweep'
  | 'instance';

export const STORE_OPERATIONS: readonly StoreOperation[] = [
  'register',
  'update',
  'deregister',
  'getById',
  'getByEndpoint',
  'getByAddress',
  'takeExpired',
  'count',
  'list',
  'markSeen',
  'addObservation',
  'getObservation',
  'removeObservation',
  'listObservations',
  'removeObservations',
  'invalidate',
  'rpcQueue',
  'rpcSweep',
  'instance',
];

export interface OperationStats {
  /** Calls of the store method. */
  calls: number;
  /** Calls answered from the in-process cache without any Redis command. */
  cacheHits: number;
  /** Redis commands sent (a script counts one; an EVALSHA retried as EVAL counts two). */
  commands: number;
  /** Commands that failed (connection, timeout or error reply). */
  errors: number;
}

export class RedisStats {
  commands = 0;
  errors = 0;
  /** Best-effort cleanup commands (stale-index removal, TTL refresh) that failed and were dropped. */
  cleanupFailures = 0;
  /** Index entries found pointing to a registration that no longer matches (a crash or a race left them). */
  staleIndexEntries = 0;
  /** Records skipped because this bridge cannot read them (corrupt, or written in a newer format). */
  undecodableRecords = 0;
  /** Registrations announced as expired by this instance. */
  expiredClaimed = 0;
  /** Cache invalidation messages from other instances (cache-invalidation.ts): applied, and unreadable. */
  invalidationsApplied = 0;
  invalidationsMalformed = 0;
  /** Times the record caches went off because the invalidation subscription was lost. */
  cacheSuspensions = 0;
  /** Whether the record caches are on (invalidation channel subscribed, or no subscriber in use). */
  cacheCoherent = true;
  /** Latency of each Redis command, in ms, labelled with the store operation that sent it. */
  onLatency: ((operation: StoreOperation, ms: number) => void) | undefined;
  readonly operations: Record<StoreOperation, OperationStats>;

  constructor(onLatency?: (operation: StoreOperation, ms: number) => void) {
    this.onLatency = onLatency;
    const ops: Partial<Record<StoreOperation, OperationStats>> = {};
    for (const op of STORE_OPERATIONS) ops[op] = { calls: 0, cacheHits: 0, commands: 0, errors: 0 };
    this.operations = ops as Record<StoreOperation, OperationStats>;
  }

  /** Commands per call of an operation since start (0 when never called). */
  commandsPerCall(op: StoreOperation): number {
    const s = this.operations[op];
    return s.calls === 0 ? 0 : s.commands / s.calls;
  }

  /** Commands per notification: the lookups a notification makes (by token, then the registration by id). */
  commandsPerNotification(): number {
    const byToken = this.operations.getObservation;
    return byToken.calls === 0 ? 0 : (byToken.commands + this.operations.getById.commands) / byToken.calls;
  }
}
