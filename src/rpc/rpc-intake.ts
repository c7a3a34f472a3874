/**
 * RPC request records from the bus → the RPC service: validated (a bad record is answered
 * BAD_REQUEST naming the field, never dropped and never fatal), deadlines counted from the
 * record's timestamp, repeats of a request id skipped. The handler returns once the request is
 * queued (in Redis, with the Redis queue), so the record's offset is committed only then: while
 * the queue is unreachable it retries, holding the partition (order per device is kept).
 */
import { RecordNotTakenError, type ConsumedRecord } from '../bus/types';
import { BridgeError } from '../common/errors';
import { isRejection, parseRpcRequest } from './request';
import type { RpcService } from './rpc-service';
import { errorMessage } from '../common/error-message';

export interface RpcIntakeStats {
  taken: number;
  rejected: number;
  duplicates: number;
  /** Attempts to queue that failed because the queue's store was unreachable (then retried). */
  retries: number;
}

export interface RpcIntakeOptions {
  /** True once the bridge stops: a record not yet queued is then left to another instance. */
  readonly stopping: () => boolean;
  /** Backoff between attempts while the store is unreachable: 100 ms doubling to this. Default 5000. */
  readonly maxBackoffMs?: number;
}

export function rpcIntake(
  service: RpcService,
  stats: RpcIntakeStats,
  o: RpcIntakeOptions,
): (record: ConsumedRecord) => Promise<void> {
  return async (record) => {
    const parsed = parseRpcRequest(record.value);
    if (isRejection(parsed)) {
      stats.rejected++;
      const endpoint = parsed.endpoint ?? record.key ?? undefined;
      await service.reject(endpoint !== undefined ? { ...parsed, endpoint } : parsed);
      return;
    }
    const takenAt = Number.isFinite(record.timestamp) && record.timestamp > 0 ? record.timestamp : undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await service.submit(parsed, {
          ...(takenAt !== undefined ? { takenAt } : {}),
          ...(attempt > 0 ? { retry: true } : {}),
        });
        if (outcome.duplicate) stats.duplicates++;
        else stats.taken++;
        return;
      } catch (err) {
        if (!(err instanceof BridgeError) || !err.retriable) {
          // The store answered but refused (a bug or a corrupt queue): say so to whoever sent it.
          await service.reject(
            {
              id: parsed.id,
              endpoint: parsed.endpoint,
              method: parsed.method,
              error: `the request could not be queued: ${errorMessage(err)}`,
            },
            'INTERNAL_SERVER_ERROR',
          );
          return;
        }
        stats.retries++;
        if (o.stopping()) throw new RecordNotTakenError(`RPC ${parsed.id} not queued before shutdown: ${err.message}`);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(o.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(attempt, 10))),
        );
      }
    }
  };
}
