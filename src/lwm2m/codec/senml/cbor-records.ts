/**
 * SenML CBOR (application/senml+cbor, CoAP content format 112): bytes ↔ raw records.
 * Format (RFC 8428 §6): a definite-length array of maps keyed by the integer labels of Table 4
 * (bn=-2, bt=-3, n=0, v=2, vs=3, vb=4, vd=8, t=6, ...); the LwM2M Objlnk value uses the text
 * key "vlo" (LwM2M-Core 1.1 §7.4.6). Numbers may be integers, floats or decimal fractions
 * (tag 4); Time values may also be CBOR date/time items (tags 0/1, LwM2M-Core 1.2 Table C.-2).
 */
import { Decoder } from 'cbor-x';
import { CodecError } from '../../../common/errors';
import { CborWriter } from '../cbor-writer';
import { CborLabel, OBJLNK_LABEL, type RawRecord, type RecordValue, type ValueKind } from './record';
import { errorMessage } from '../../../common/error-message';

// Integer keys must stay numbers and maps must stay Maps: mapsAsObjects would stringify them.
// copyBuffers: Opaque values must not alias the (possibly reused) datagram buffer.
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false, copyBuffers: true });

/** Decodes one CBOR item, wrapping cbor-x errors in CodecError. */
export function decodeCbor(payload: Buffer, where: string, format: string): unknown {
  try {
    return decoder.decode(payload) as unknown;
  } catch (e) {
    throw new CodecError(`invalid ${format}: ${errorMessage(e)}`, where);
  }
}

function fail(message: string, where: string): CodecError {
  return new CodecError(`invalid SenML CBOR: ${message}`, where);
}

function str(v: unknown, label: string, where: string): string {
  if (typeof v !== 'string') throw fail(`label ${label} must be a text string`, where);
  return v;
}

function num(v: unknown, label: string, where: string): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw fail(`label ${label} must be a number`, where);
  return v;
}

function setValue(r: RawRecord, kind: ValueKind, value: RecordValue, where: string): void {
  // RFC 8428 §4.2: exactly one value field per record.
  if (r.kind !== undefined) throw fail('record has more than one value field', where);
  r.kind = kind;
  r.value = value;
}

function numericValue(v: unknown, label: string, where: string): { kind: ValueKind; value: number | bigint | Date } {
  if (typeof v === 'number' || typeof v === 'bigint') return { kind: 'v', value: v };
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw fail(`label ${label} holds an invalid date/time`, where);
    return { kind: 'time', value: v };
  }
  throw fail(`label ${label} must be a number`, where);
}

function member(r: RawRecord, key: unknown, v: unknown, where: string): void {
  switch (key) {
    case CborLabel.bn:
      return void (r.bn = str(v, 'bn', where));
    case CborLabel.n:
      return void (r.n = str(v, 'n', where));
    case CborLabel.bt:
      return void (r.bt = num(v, 'bt', where));
    case CborLabel.t:
      return void (r.t = num(v, 't', where));
    case CborLabel.bver:
      return void (r.bver = num(v, 'bver', where));
    case CborLabel.bu:
      return void (r.bu = str(v, 'bu', where));
    case CborLabel.u:
      return void (r.u = str(v, 'u', where));
    case CborLabel.bs:
      return void (r.bs = num(v, 'bs', where));
    case CborLabel.s:
      return void (r.s = num(v, 's', where));
    case CborLabel.ut:
      return void (r.ut = num(v, 'ut', where));
    case CborLabel.bv: {
      if (typeof v !== 'number' && typeof v !== 'bigint') throw fail('label bv must be a number', where);
      return void (r.bv = v);
    }
    case CborLabel.v: {
      const { kind, value } = numericValue(v, 'v', where);
      return setValue(r, kind, value, where);
    }
    case CborLabel.vs:
      return setValue(r, 'vs', str(v, 'vs', where), where);
    case CborLabel.vb:
      if (typeof v !== 'boolean') throw fail('label vb must be a boolean', where);
      return setValue(r, 'vb', v, where);
    case CborLabel.vd:
      if (!(v instanceof Uint8Array)) throw fail('label vd must be a byte string', where);
      return setValue(r, 'vd', Buffer.isBuffer(v) ? v : Buffer.from(v), where);
    case OBJLNK_LABEL:
      return setValue(r, 'vlo', str(v, 'vlo', where), where);
    default:
      // RFC 8428 §6: Table 4 is conclusive, so an unknown integer label is malformed; unknown text
      // labels are extensions, ignored unless they end with "_" (RFC 8428 §4.4).
      if (typeof key === 'string') {
        if (key.endsWith('_')) throw fail(`unsupported must-understand label "${key}"`, where);
        return;
      }
      throw fail(`unknown label ${String(key)}`, where);
  }
}

/** Parses a SenML CBOR pack; `where` names the LwM2M path for error messages. */
export function readSenmlCbor(payload: Buffer, where: string): RawRecord[] {
  const pack = decodeCbor(payload, where, 'SenML CBOR');
  if (!Array.isArray(pack)) throw fail('a SenML pack must be a CBOR array', where);
  const records: RawRecord[] = new Array<RawRecord>(pack.length);
  for (let i = 0; i < pack.length; i++) {
    const item: unknown = pack[i];
    if (!(item instanceof Map)) throw fail(`record ${i} is not a CBOR map`, where);
    const r: RawRecord = {};
    for (const [key, value] of item as Map<unknown, unknown>) member(r, key, value, where);
    records[i] = r;
  }
  return records;
}

/**
 * A SenML value as a bare CBOR item (also the leaf values of LwM2M CBOR). A number is a float when
 * `asFloat` (a Float resource) or not an exact integer, else an integer.
 */
export function writeValueItem(
  w: CborWriter,
  kind: ValueKind,
  value: RecordValue,
  asFloat: boolean,
  where: string,
): void {
  if (kind === 'v' && (typeof value === 'number' || typeof value === 'bigint')) w.number(value, asFloat);
  else if ((kind === 'vs' || kind === 'vlo') && typeof value === 'string') w.text(value);
  else if (kind === 'vb' && typeof value === 'boolean') w.bool(value);
  else if (kind === 'vd' && Buffer.isBuffer(value)) w.bytes(value);
  else throw new CodecError(`cannot write this SenML "${kind}" value as CBOR`, where);
}

function writeValue(w: CborWriter, kind: ValueKind, value: RecordValue, asFloat: boolean, where: string): void {
  if (kind === 'vlo') w.text(OBJLNK_LABEL);
  else if (kind !== 'time') w.int(CborLabel[kind]);
  writeValueItem(w, kind, value, asFloat, where);
}

/**
 * Writes raw records as a SenML CBOR pack. Numbers are written as integers when exact, except a
 * "v" marked `vFloat` (a Float resource), which is always a float.
 */
export function writeSenmlCbor(records: readonly RawRecord[], where: string): Buffer {
  const w = new CborWriter(64 + records.length * 24);
  w.array(records.length);
  let bn = '';
  for (const r of records) {
    if (r.bn !== undefined) bn = r.bn;
    let size = 0;
    if (r.bn !== undefined) size++;
    if (r.bt !== undefined) size++;
    if (r.bu !== undefined) size++;
    if (r.bv !== undefined) size++;
    if (r.bs !== undefined) size++;
    if (r.bver !== undefined) size++;
    if (r.n !== undefined) size++;
    if (r.u !== undefined) size++;
    if (r.t !== undefined) size++;
    if (r.ut !== undefined) size++;
    if (r.kind !== undefined && r.value !== undefined) size++;
    if (r.s !== undefined) size++;
    w.map(size);
    if (r.bn !== undefined) w.int(CborLabel.bn).text(r.bn);
    if (r.bt !== undefined) w.int(CborLabel.bt).number(r.bt);
    if (r.bu !== undefined) w.int(CborLabel.bu).text(r.bu);
    if (r.bv !== undefined) w.int(CborLabel.bv).number(r.bv);
    if (r.bs !== undefined) w.int(CborLabel.bs).number(r.bs);
    if (r.bver !== undefined) w.int(CborLabel.bver).int(r.bver);
    if (r.n !== undefined) w.int(CborLabel.n).text(r.n);
    if (r.u !== undefined) w.int(CborLabel.u).text(r.u);
    if (r.t !== undefined) w.int(CborLabel.t).number(r.t);
    if (r.ut !== undefined) w.int(CborLabel.ut).number(r.ut);
    if (r.kind !== undefined && r.value !== undefined) {
      writeValue(w, r.kind, r.value, r.vFloat === true, bn + (r.n ?? '') || where);
    }
    if (r.s !== undefined) w.int(CborLabel.s).number(r.s);
  }
  return w.finish();
}
