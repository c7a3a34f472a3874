/**
 * Typed LwM2M values ↔ SenML value kinds (LwM2M-Core 1.2 Appendix C, Table C.-2 "Data Type Mapping";
 * LwM2M-Core 1.1 §7.4.5): Integer/Unsigned/Float/Time in "v" (Time as Unix seconds), String and
 * Corelnk in "vs", Boolean in "vb", Opaque in "vd", Objlnk as "oid:iid" in "vlo".
 * Shared by SenML JSON, SenML CBOR and LwM2M CBOR (which carries Objlnk as a text string). The value
 * rules themselves (ranges, time, Objlnk) are those of ../value-rules.ts.
 */
import { CodecError } from '../../../common/errors';
import type { LwM2mValue, Objlnk, ResourceType } from '../../value';
import { coerceValue, dateToSeconds, formatObjlnk, integerType, parseObjlnk, typedValue } from '../value-rules';
import type { RecordValue, ValueKind } from './record';

/** The SenML value label of each type (NONE has no value). */
const KIND: Record<Exclude<ResourceType, 'NONE'>, ValueKind> = {
  INTEGER: 'v',
  UNSIGNED_INTEGER: 'v',
  FLOAT: 'v',
  TIME: 'v',
  BOOLEAN: 'vb',
  STRING: 'vs',
  CORELNK: 'vs',
  OPAQUE: 'vd',
  OBJLNK: 'vlo',
};

/** The type of a value whose resource the model does not know, from its SenML value kind. */
export function inferType(kind: ValueKind, value: RecordValue): ResourceType {
  switch (kind) {
    case 'v':
      return typeof value === 'bigint' || Number.isInteger(value) ? integerType(value as number | bigint) : 'FLOAT';
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

/** A decoded value for `type`, or undefined when its kind is not the type's. */
function kindValue(type: ResourceType, kind: ValueKind, value: RecordValue, where: string): LwM2mValue | undefined {
  // Objlnk: "vlo" in SenML, a text string in LwM2M CBOR (read as "vs").
  if (type === 'OBJLNK')
    return (kind === 'vlo' || kind === 'vs') && typeof value === 'string' ? parseObjlnk(value, where) : undefined;
  // A CBOR date/time item (tags 0/1) is a Time too (LwM2M-Core 1.2 Table C.-2).
  if (type === 'NONE' || kind === KIND[type] || (kind === 'time' && type === 'TIME'))
    return typedValue(value, type, where);
  return undefined;
}

/** Converts a decoded SenML value to the resource's type. */
export function toLwM2mValue(type: ResourceType, kind: ValueKind, value: RecordValue, where: string): LwM2mValue {
  const v = kindValue(type, kind, value, where);
  if (v === undefined) throw new CodecError(`a ${type} resource cannot take a SenML "${kind}" value`, where);
  return v;
}

/** The SenML label and wire value of a typed value; validates the value against the type. */
export function toSenmlValue(
  type: ResourceType,
  value: LwM2mValue,
  where: string,
): { kind: ValueKind; value: RecordValue } {
  const v = coerceValue(value, type, where); // throws for NONE
  const kind = KIND[type as Exclude<ResourceType, 'NONE'>];
  if (type === 'TIME') return { kind, value: dateToSeconds(v as Date, where) };
  if (type === 'OBJLNK') return { kind, value: formatObjlnk(v as Objlnk) };
  return { kind, value: v as RecordValue };
}
