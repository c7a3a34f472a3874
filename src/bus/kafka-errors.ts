/**
 * What a kafkajs send error means for the records (kafkajs wraps the broker's error in
 * KafkaJSNonRetriableError / KafkaJSNumberOfRetriesExceeded; the chain is followed via `cause`).
 */
import { errorMessage } from '../common/error-message';

/** Broker errors that refuse the records themselves: sending them again cannot succeed. */
const RECORDS_REFUSED = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TOPIC_EXCEPTION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);

/** Errors that leave the idempotent producer's sequence state unusable: start a new producer. */
const PRODUCER_STATE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

export function errorTypes(err: unknown): string[] {
  const types: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    if ('type' in e && typeof e.type === 'string') types.push(e.type);
    e = 'cause' in e ? e.cause : undefined;
  }
  return types;
}

export function isRecordRefusal(err: unknown): boolean {
  return errorTypes(err).some((t) => RECORDS_REFUSED.has(t));
}

export function needsNewProducer(err: unknown): boolean {
  return errorTypes(err).some((t) => PRODUCER_STATE.has(t));
}

/** A short description for logs: the message and the broker error type, if any. */
export function describeKafkaError(err: unknown): { message: string; type?: string } {
  const type = errorTypes(err)[0];
  const message = errorMessage(err);
  return type === undefined ? { message } : { message, type };
}

/** Whether kafkajs marks the error (or one it wraps) as retriable: e.g. a partition leader not elected yet. */
export function isRetriable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    if ('retriable' in e && e.retriable === true) return true;
    e = 'cause' in e ? e.cause : 'originalError' in e ? e.originalError : undefined;
  }
  return false;
}
