/**
 * SenML JSON (application/senml+json, CoAP content format 110): bytes ↔ raw records.
 * Format (RFC 8428 §5): [{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"9","v":100}, ...]
 * with the LwM2M Objlnk label "vlo" (LwM2M-Core 1.1 §7.4.5). Labels are written in a fixed order
 * (base fields, name, unit, time, value), which reproduces the examples of RFC 8428 §5.1 and
 * LwM2M-Core 1.1 §7.4.5.
 */
import { CodecError } from '../../../common/errors';
import { encodeBase64Url } from './base64';
import { readSenmlJson } from './json-reader';
import type { RawRecord, RecordValue, ValueKind } from './record';

export { readSenmlJson };

function jsonNumber(v: number | bigint, where: string): string {
  if (typeof v === 'bigint') return v.toString();
  // RFC 8259 §6 has no NaN or infinities; String() writes exponents with a lower-case "e" (RFC 8428 §5).
  if (!Number.isFinite(v)) throw new CodecError(`SenML JSON cannot carry the number ${v}`, where);
  return String(v);
}

/** The JSON text of a value, or undefined when it cannot be written. */
function jsonValue(kind: ValueKind, value: RecordValue): string | undefined {
  switch (kind) {
    case 'v':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      break;
    case 'vb':
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      break;
    case 'vd':
      if (Buffer.isBuffer(value)) return '"' + encodeBase64Url(value) + '"';
      break;
    case 'vs':
    case 'vlo':
      if (typeof value === 'string') return JSON.stringify(value);
      break;
    case 'time':
      break;
  }
  return undefined;
}

/** Writes raw records as a SenML JSON pack. */
export function writeSenmlJson(records: readonly RawRecord[], where: string): Buffer {
  let out = '[';
  let bn = '';
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RawRecord;
    if (r.bn !== undefined) bn = r.bn;
    let rec = '';
    if (r.bn !== undefined) rec += ',"bn":' + JSON.stringify(r.bn);
    if (r.bt !== undefined) rec += ',"bt":' + jsonNumber(r.bt, where);
    if (r.bu !== undefined) rec += ',"bu":' + JSON.stringify(r.bu);
    if (r.bv !== undefined) rec += ',"bv":' + jsonNumber(r.bv, where);
    if (r.bs !== undefined) rec += ',"bs":' + jsonNumber(r.bs, where);
    if (r.bver !== undefined) rec += ',"bver":' + jsonNumber(r.bver, where);
    if (r.n !== undefined) rec += ',"n":' + JSON.stringify(r.n);
    if (r.u !== undefined) rec += ',"u":' + JSON.stringify(r.u);
    if (r.t !== undefined) rec += ',"t":' + jsonNumber(r.t, where);
    if (r.ut !== undefined) rec += ',"ut":' + jsonNumber(r.ut, where);
    if (r.kind !== undefined && r.value !== undefined) {
      const v = jsonValue(r.kind, r.value);
      if (v === undefined)
        throw new CodecError(`SenML JSON cannot carry this "${r.kind}" value`, bn + (r.n ?? '') || where);
      rec += ',"' + r.kind + '":' + v;
    }
    if (r.s !== undefined) rec += ',"s":' + jsonNumber(r.s, where);
    out += (i > 0 ? ',{' : '{') + rec.slice(1) + '}';
  }
  return Buffer.from(out + ']', 'utf8');
}
