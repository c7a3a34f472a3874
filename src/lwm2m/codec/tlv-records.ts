/**
 * OMA TLV bytes ↔ records (LwM2M-Core 1.0 §6.4.3, 1.1 §7.4.3). One TLV:
 *
 *   type (1 byte)
 *     bits 7-6  kind: 00 Object Instance, 01 Resource Instance, 10 Multiple Resource, 11 Resource with value
 *     bit  5    identifier length: 0 = 8 bits, 1 = 16 bits
 *     bits 4-3  length field: 00 none (length in bits 2-0), 01 = 8 bits, 10 = 16 bits, 11 = 24 bits
 *     bits 2-0  value length when bits 4-3 are 00
 *   identifier (1 or 2 bytes, big-endian)
 *   length     (0-3 bytes, big-endian)
 *   value      (length bytes): nested TLVs for Object Instance and Multiple Resource, else the raw value
 *
 * Nesting (§7.4.3): an Object Instance holds Resource / Multiple Resource TLVs; a Multiple Resource
 * holds Resource Instance TLVs. This layer checks framing and nesting only; types are the node layer's job.
 */
import { fail } from './codec-common';

export const TlvKind = {
  OBJECT_INSTANCE: 0,
  RESOURCE_INSTANCE: 1,
  MULTIPLE_RESOURCE: 2,
  RESOURCE_VALUE: 3,
} as const;
export type TlvKind = (typeof TlvKind)[keyof typeof TlvKind];

export interface TlvRecord {
  readonly kind: TlvKind;
  readonly id: number;
  /** For RESOURCE_VALUE and RESOURCE_INSTANCE: the value bytes (a view into the payload when decoded). */
  readonly value?: Buffer;
  /** For OBJECT_INSTANCE and MULTIPLE_RESOURCE. */
  readonly children?: readonly TlvRecord[];
}

export const KIND_NAME: Record<TlvKind, string> = [
  'object instance',
  'resource instance',
  'multiple resource',
  'resource',
];

/** §7.4.3: 24-bit length field, so a value is at most 2^24-1 bytes. */
const MAX_LENGTH = 0xffffff;

/** Which kinds may appear inside a container (at top level anything may; the node layer checks by path). */
function allowedInside(parent: TlvKind, child: TlvKind): boolean {
  if (parent === TlvKind.OBJECT_INSTANCE)
    return child === TlvKind.RESOURCE_VALUE || child === TlvKind.MULTIPLE_RESOURCE;
  return parent === TlvKind.MULTIPLE_RESOURCE && child === TlvKind.RESOURCE_INSTANCE;
}

function isContainer(kind: TlvKind): boolean {
  return kind === TlvKind.OBJECT_INSTANCE || kind === TlvKind.MULTIPLE_RESOURCE;
}

function parseRange(buf: Buffer, start: number, end: number, parent: TlvKind | undefined, where: string): TlvRecord[] {
  const out: TlvRecord[] = [];
  let pos = start;
  while (pos < end) {
    const at = pos;
    const header = buf[pos++] as number;
    const kind = (header >> 6) as TlvKind;
    const idBytes = header & 0x20 ? 2 : 1;
    const lengthBytes = (header >> 3) & 0x03;
    if (pos + idBytes + lengthBytes > end) throw fail(`truncated TLV header at offset ${at}`, where);
    const id = idBytes === 2 ? buf.readUInt16BE(pos) : (buf[pos] as number);
    pos += idBytes;
    let length = header & 0x07;
    if (lengthBytes > 0) {
      length = buf.readUIntBE(pos, lengthBytes);
      pos += lengthBytes;
    }
    if (length > end - pos) {
      throw fail(
        `TLV ${KIND_NAME[kind]} ${id} at offset ${at} declares ${length} bytes but only ${end - pos} remain`,
        where,
      );
    }
    if (parent !== undefined && !allowedInside(parent, kind)) {
      throw fail(`a ${KIND_NAME[kind]} TLV cannot be nested in a ${KIND_NAME[parent]} TLV (offset ${at})`, where);
    }
    if (isContainer(kind)) {
      out.push({ kind, id, children: parseRange(buf, pos, pos + length, kind, where) });
    } else {
      out.push({ kind, id, value: buf.subarray(pos, pos + length) });
    }
    pos += length;
  }
  return out;
}

/** Parses a whole TLV payload; `where` (the request path) names errors. */
export function decodeTlv(buf: Buffer, where: string): TlvRecord[] {
  return parseRange(buf, 0, buf.length, undefined, where);
}

// ---- encoding ----------------------------------------------------------------------------------

function contentLength(r: TlvRecord): number {
  if (r.children) {
    let n = 0;
    for (const c of r.children) n += recordLength(c);
    return n;
  }
  return r.value ? r.value.length : 0;
}

function headerLength(id: number, length: number): number {
  const idBytes = id > 0xff ? 2 : 1;
  const lengthBytes = length < 8 ? 0 : length <= 0xff ? 1 : length <= 0xffff ? 2 : 3;
  return 1 + idBytes + lengthBytes;
}

function recordLength(r: TlvRecord): number {
  const len = contentLength(r);
  return headerLength(r.id, len) + len;
}

function write(r: TlvRecord, out: Buffer, pos: number, where: string): number {
  const len = contentLength(r);
  if (len > MAX_LENGTH) throw fail(`TLV value of ${len} bytes exceeds the 24-bit length field`, where);
  if (!Number.isInteger(r.id) || r.id < 0 || r.id > 0xffff)
    throw fail(`TLV identifier ${r.id} is not a 16-bit id`, where);
  const wide = r.id > 0xff;
  const lengthBytes = len < 8 ? 0 : len <= 0xff ? 1 : len <= 0xffff ? 2 : 3;
  out[pos++] = (r.kind << 6) | (wide ? 0x20 : 0) | (lengthBytes << 3) | (lengthBytes === 0 ? len : 0);
  if (wide) pos = out.writeUInt16BE(r.id, pos);
  else out[pos++] = r.id;
  if (lengthBytes > 0) pos = out.writeUIntBE(len, pos, lengthBytes);
  if (r.children) {
    for (const c of r.children) pos = write(c, out, pos, where);
  } else if (r.value) {
    pos += r.value.copy(out, pos);
  }
  return pos;
}

/** Serialises records into one exactly-sized buffer (shortest identifier and length fields). */
export function encodeTlv(records: readonly TlvRecord[], where: string): Buffer {
  let total = 0;
  for (const r of records) total += recordLength(r);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const r of records) pos = write(r, out, pos, where);
  return out;
}
