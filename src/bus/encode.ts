/**
 * A bus record as it goes on the wire: JSON value text and the contract's headers
 * (docs/kafka/README.md, "Headers"). Encoded once, at publish time, so the buffer is accounted
 * in real (UTF-8) bytes and a value that cannot be serialised is refused at once. The text is
 * turned into bytes where it is sent (the producer thread), not here.
 */
import {
  CONTENT_TYPE_JSON,
  HEADER_CONTENT_TYPE,
  HEADER_INSTANCE_ID,
  HEADER_SCHEMA_VERSION,
  SCHEMA_VERSION,
} from '../contract/version';
import { BusRejectedError, type BusRecord } from './types';
import { errorMessage } from '../common/error-message';

export interface EncodedRecord {
  readonly topic: string;
  readonly key: string;
  /** JSON text; null: a tombstone (compacted topics). */
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Bytes the record takes in the buffer: key, value and headers. */
  readonly bytes: number;
}

/** The headers every record carries; a record's own headers override them. */
export function defaultHeaders(instanceId: string): Record<string, string> {
  return {
    [HEADER_SCHEMA_VERSION]: SCHEMA_VERSION,
    [HEADER_INSTANCE_ID]: instanceId,
    [HEADER_CONTENT_TYPE]: CONTENT_TYPE_JSON,
  };
}

export function encodeRecord(record: BusRecord, base: Readonly<Record<string, string>>): EncodedRecord {
  const headers = record.headers === undefined ? base : { ...base, ...record.headers };
  if (record.value === null)
    return { topic: record.topic, key: record.key, value: null, headers, bytes: recordBytes(record, 0, headers) };
  let json: string | undefined;
  try {
    json = JSON.stringify(record.value);
  } catch (err) {
    throw new BusRejectedError(
      `record for ${record.key} on ${record.topic} is not JSON-serialisable: ${errorMessage(err)}`,
      err,
    );
  }
  if (json === undefined) throw new BusRejectedError(`record for ${record.key} on ${record.topic} has no JSON value`);
  return {
    topic: record.topic,
    key: record.key,
    value: json,
    headers,
    bytes: recordBytes(record, Buffer.byteLength(json), headers),
  };
}

/** Bytes of each header set met, by identity: the defaults are counted once, not per record. */
const headerBytesOf = new WeakMap<object, number>();

function recordBytes(record: BusRecord, valueBytes: number, headers: Readonly<Record<string, string>>): number {
  let headerBytes = headerBytesOf.get(headers);
  if (headerBytes === undefined) {
    headerBytes = 0;
    for (const k in headers) headerBytes += Buffer.byteLength(k) + Buffer.byteLength(headers[k] ?? '');
    headerBytesOf.set(headers, headerBytes);
  }
  return valueBytes + Buffer.byteLength(record.key) + record.topic.length + headerBytes;
}

export function encodeRecords(records: readonly BusRecord[], base: Readonly<Record<string, string>>): EncodedRecord[] {
  return records.map((r) => encodeRecord(r, base));
}
