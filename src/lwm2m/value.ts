/**
 * Resource data types and typed values (LwM2M-Core 1.2 Appendix C, "Data Types").
 */
export type ResourceType =
  'STRING' | 'INTEGER' | 'UNSIGNED_INTEGER' | 'FLOAT' | 'BOOLEAN' | 'OPAQUE' | 'TIME' | 'OBJLNK' | 'CORELNK' | 'NONE';

/** An Objlnk value: a reference to an object instance (LwM2M-Core 1.2 Appendix C). 65535:65535 is the null link. */
export interface Objlnk {
  readonly objectId: number;
  readonly instanceId: number;
}

/**
 * A typed value.
 * - INTEGER, UNSIGNED_INTEGER: number when within the safe integer range, bigint otherwise.
 * - FLOAT: number. BOOLEAN: boolean. STRING, CORELNK: string. OPAQUE: Buffer.
 * - TIME: Date (seconds resolution on the wire).
 * - OBJLNK: Objlnk.
 */
export type LwM2mValue = number | bigint | boolean | string | Buffer | Date | Objlnk;

export function isObjlnk(v: unknown): v is Objlnk {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Date) &&
    !Buffer.isBuffer(v) &&
    'objectId' in v &&
    'instanceId' in v
  );
}

/** Normalises an integer read from the wire: bigint only when outside Number's safe range. */
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function normaliseInteger(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}
