/**
 * SenML record model shared by SenML JSON (110), SenML CBOR (112) and, at the resolved level,
 * LwM2M CBOR (11544).
 *
 * Two levels (RFC 8428 §4):
 * - RawRecord: one record as written on the wire, base fields included (bytes ↔ RawRecord in
 *   json-records.ts / cbor-records.ts);
 * - ResolvedRecord: base name/time/value applied, LwM2M path parsed (RFC 8428 §4.6, resolve.ts).
 *
 * A record carries at most one value (RFC 8428 §4.2). Value kinds are the SenML value labels, plus
 * LwM2M's Objlnk label "vlo" (LwM2M-Core 1.1 §7.4.5) and "time" for CBOR date/time items
 * (tags 0/1, RFC 8949 §3.4.1), which LwM2M allows for the Time data type (LwM2M-Core 1.2 Table C.-2).
 */

/** v: number, vs: string, vb: boolean, vd: data, vlo: Objlnk "oid:iid", time: CBOR date/time. */
export type ValueKind = 'v' | 'vs' | 'vb' | 'vd' | 'vlo' | 'time';

export type RecordValue = number | bigint | string | boolean | Buffer | Date;

export interface RawRecord {
  bn?: string;
  bt?: number;
  bu?: string;
  bv?: number | bigint;
  bs?: number;
  bver?: number;
  n?: string;
  u?: string;
  s?: number;
  t?: number;
  ut?: number;
  /** The record's value label, when it has a value. */
  kind?: ValueKind;
  value?: RecordValue;
  /** Encoding hint: write "v" as a float even when integral (Float resources in SenML CBOR). */
  vFloat?: boolean;
}

/** A resolved record: absolute LwM2M path ids, absolute time, at most one value. */
export interface ResolvedRecord {
  /** The concatenated name (bn + n), kept for error messages and composite keys. */
  readonly name: string;
  /** Path ids parsed from the name: [objectId, instanceId?, resourceId?, resourceInstanceId?]. */
  readonly ids: readonly number[];
  /** Unix time in milliseconds; undefined when the record carries no time ("now"). */
  readonly time?: number;
  readonly kind?: ValueKind;
  readonly value?: RecordValue;
}

/** SenML CBOR integer labels (RFC 8428 §6, Table 4). */
export const CborLabel = {
  bver: -1,
  bn: -2,
  bt: -3,
  bu: -4,
  bv: -5,
  bs: -6,
  n: 0,
  u: 1,
  v: 2,
  vs: 3,
  vb: 4,
  s: 5,
  t: 6,
  ut: 7,
  vd: 8,
} as const;

/** The Objlnk label is a text key in both JSON and CBOR (LwM2M-Core 1.1 §7.4.5, §7.4.6). */
export const OBJLNK_LABEL = 'vlo';

/** Highest SenML version this implementation understands (RFC 8428 §4.4: default 10). */
export const SENML_VERSION = 10;

/** Times below 2^28 s are relative to "now" (RFC 8428 §4.5.3). */
export const RELATIVE_TIME_LIMIT = 2 ** 28;
