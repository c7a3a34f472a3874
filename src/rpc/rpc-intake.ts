/**
 * RPC request records from the bus → the RPC service: validated (a bad record is answered
 * BAD_REQUEST naming the field, never dropped and never fatal), deadlines counted from the
 * record's timestamp, repeats of a request id skipped.
 */
import type { ConsumedRecord } from '../bus/types';
import { isRejection, parseRpcRequest } from './request';
import type { RpcService } from './rpc-service';

export interface RpcIntakeStats {
  taken: number;
  rejected: number;
  duplicates: number;
}

export function rpcIntake(service: RpcService, stats: RpcIntakeStats): (record: ConsumedRecord) => Promise<void> {
  return async (record) => {
    const parsed = parseRpcRequest(record.value);
    if (isRejection(parsed)) {
      stats.rejected++;
      const endpoint = parsed.endpoint ?? record.key ?? undefined;
      await service.reject(endpoint !== undefined ? { ...parsed, endpoint } : parsed);
      return;
    }
    const outcome = service.submit(parsed, Number.isFinite(record.timestamp) && record.timestamp > 0 ? record.timestamp : undefined);
    if (outcome.duplicate) stats.duplicates++;
    else stats.taken++;
  };
}
