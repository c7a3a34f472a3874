/**
 * Typed LwM2M values ↔ SenML values (LwM2M-Core 1.2 Appendix C, Table C.-2 "Data Type Mapping";
 * LwM2M-Core 1.1 §7.4.5): Integer/Unsigned/Float/Time in "v" (Time as Unix seconds), String and
 * Corelnk in "vs", Boolean in "vb", Opaque in "vd", Objlnk as "oid:iid" in "vlo".
 * Shared by SenML JSON, SenML CBOR and LwM2M CBOR (which carries Objlnk as a text string).
 */
import { CodecError } from '../../../common/errors';
import { isObjLink, normaliseInteger, type LwM2mValue, type ObjLink, type ResourceType } from '../../value';
import type { RecordValue, ValueKind } from './record';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
/** ECMA-262 §21.4.1.1: a Date holds ±8.64e15 ms. */
const MAX_DATE_SECONDS = 8.64e12;
const OBJLNK_TEXT = /^(\d{1,5}):(\d{1,5})$/;

/** The type of a value whose resource the model does not know, from its SenML value kind. */
export function inferType(kind: ValueKind, value: RecordValue): ResourceType {
  switch (kind) {
    case 'v':
      return typeof value === 'bigint' || Number.isInteger(value) ? 'INTEGER' : 'FLOAT';
    case 'vs':
      return 'STRING';
    case 'vb':
      return 'BOOLEAN';
    case 'vd':
      return 'OPAQUE';
    case 'vlo':
      return 'OBJLNK';
    case 'time':
      return 'TIME';
  }
}

function mismatch(type: ResourceType, kind: ValueKind, where: string): CodecError {
  return new CodecError(`a ${type} resource cannot take a SenML "${kind}" value`, where);
}

/** An integer value of the given type, range-checked (LwM2M-Core 1.2 Appendix C: 64-bit integers). */
export function checkInteger(v: number | bigint, unsigned: boolean, where: string): number | bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new CodecError(`${v} is not an integer`, where);
    if (Number.isSafeInteger(v)) {
      if (unsigned && v < 0) throw new CodecError(`${v} is not an unsigned integer`, where);
      return v;
    }
    v = BigInt(v);
  }
  if (unsigned ? v < 0n || v > UINT64_MAX : v < INT64_MIN || v > INT64_MAX) {
    throw new CodecError(`${v} is out of the ${unsigned ? 'unsigned ' : ''}64-bit integer range`, where);
  }
  return normaliseInteger(v);
}

export function parseObjLink(text: string, where: string): ObjLink {
  const m = OBJLNK_TEXT.exec(text);
  const objectId = m ? Number(m[1]) : NaN;
  const instanceId = m ? Number(m[2]) : NaN;
  if (!(objectId <= 65535 && instanceId <= 65535)) throw new CodecError(`"${text}" is not an Objlnk "oid:iid"`, where);
  return { objectId, instanceId };
}

export function formatObjLink(v: ObjLink, where: string): string {
  const { objectId, instanceId } = v;
  if (!Number.isInteger(objectId) || !Number.isInteger(instanceId) || objectId < 0 || instanceId < 0 || objectId > 65535 || instanceId > 65535) {
    throw new CodecError(`invalid Objlnk ${objectId}:${instanceId}`, where);
  }
  return objectId + ':' + instanceId;
}

/** Unix seconds of a Time value (the wire has seconds resolution). */
export function timeSeconds(v: Date, where: string): number {
  const ms = v.getTime();
  if (Number.isNaN(ms)) throw new CodecError('invalid Date for a TIME resource', where);
  return Math.floor(ms / 1000);
}

function dateFromSeconds(v: number | bigint, where: string): Date {
  const s = Number(v);
  if (!Number.isFinite(s) || Math.abs(s) > MAX_DATE_SECONDS) throw new CodecError(`${v} is not a valid Unix time`, where);
  return new Date(s * 1000);
}

/** Converts a decoded SenML value to the resource's type. */
export function toLwM2mValue(type: ResourceType, kind: ValueKind, value: RecordValue, where: string): LwM2mValue {
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      if (kind !== 'v' || (typeof value !== 'number' && typeof value !== 'bigint')) throw mismatch(type, kind, where);
      return checkInteger(value, type === 'UNSIGNED_INTEGER', where);
    case 'FLOAT':
      if (kind !== 'v' || (typeof value !== 'number' && typeof value !== 'bigint')) throw mismatch(type, kind, where);
      return Number(value);
    case 'TIME':
      if (kind === 'time' && value instanceof Date) return value;
      if (kind !== 'v' || (typeof value !== 'number' && typeof value !== 'bigint')) throw mismatch(type, kind, where);
      return dateFromSeconds(value, where);
    case 'BOOLEAN':
      if (kind !== 'vb' || typeof value !== 'boolean') throw mismatch(type, kind, where);
      return value;
    case 'STRING':
    case 'CORELNK':
      if (kind !== 'vs' || typeof value !== 'string') throw mismatch(type, kind, where);
      return value;
    case 'OPAQUE':
      if (kind !== 'vd' || !Buffer.isBuffer(value)) throw mismatch(type, kind, where);
      return value;
    case 'OBJLNK':
      // "vlo" in SenML; a text string in LwM2M CBOR (parsed as "vs").
      if ((kind !== 'vlo' && kind !== 'vs') || typeof value !== 'string') throw mismatch(type, kind, where);
      return parseObjLink(value, where);
    case 'NONE':
      throw new CodecError('an executable resource (type NONE) has no value', where);
  }
}

/** The SenML label and wire value of a typed value; validates the value against the type. */
export function toSenmlValue(type: ResourceType, value: LwM2mValue, where: string): { kind: ValueKind; value: RecordValue } {
  switch (type) {
    case 'INTEGER':
    case 'UNSIGNED_INTEGER':
      if (typeof value !== 'number' && typeof value !== 'bigint') break;
      return { kind: 'v', value: checkInteger(value, type === 'UNSIGNED_INTEGER', where) };
    case 'FLOAT':
      if (typeof value === 'bigint') return { kind: 'v', value: Number(value) };
      if (typeof value !== 'number') break;
      return { kind: 'v', value };
    case 'TIME':
      if (!(value instanceof Date)) break;
      return { kind: 'v', value: timeSeconds(value, where) };
    case 'BOOLEAN':
      if (typeof value !== 'boolean') break;
      return { kind: 'vb', value };
    case 'STRING':
    case 'CORELNK':
      if (typeof value !== 'string') break;
      return { kind: 'vs', value };
    case 'OPAQUE':
      if (!Buffer.isBuffer(value)) break;
      return { kind: 'vd', value };
    case 'OBJLNK':
      if (!isObjLink(value)) break;
      return { kind: 'vlo', value: formatObjLink(value, where) };
    case 'NONE':
      break;
  }
  throw new CodecError(`value does not match resource type ${type}`, where);
}
