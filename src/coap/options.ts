/**
 * Option value helpers: uint (RFC 7252 §3.2), Block1/Block2 (RFC 7959 §2.2), and accessors.
 */
import { CoapFormatError } from '../common/errors';
import { type CoapMessage, type CoapOption, EMPTY_BUFFER, Opt } from './message';

const UINT_CACHE: Buffer[] = [];
for (let i = 0; i < 256; i++) UINT_CACHE.push(i === 0 ? EMPTY_BUFFER : Buffer.from([i]));

/** RFC 7252 §3.2: shortest big-endian representation; 0 is the empty string. */
export function encodeUint(n: number): Buffer {
  if (n < 256) return UINT_CACHE[n] as Buffer;
  if (n < 0x10000) return Buffer.from([n >> 8, n & 0xff]);
  if (n < 0x1000000) return Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export function decodeUint(b: Buffer): number {
  if (b.length > 4) throw new CoapFormatError(`uint option of ${b.length} bytes is longer than 4`);
  let n = 0;
  for (let i = 0; i < b.length; i++) n = n * 256 + (b[i] as number);
  return n;
}

export function getOption(msg: CoapMessage, num: number): Buffer | undefined {
  for (const o of msg.options) {
    if (o.number === num) return o.value;
    if (o.number > num) return undefined;
  }
  return undefined;
}

export function getOptions(msg: CoapMessage, num: number): Buffer[] {
  const out: Buffer[] = [];
  for (const o of msg.options) {
    if (o.number === num) out.push(o.value);
    else if (o.number > num) break;
  }
  return out;
}

export function getUintOption(msg: CoapMessage, num: number): number | undefined {
  const v = getOption(msg, num);
  return v === undefined ? undefined : decodeUint(v);
}

export const uriPath = (msg: CoapMessage): string[] => getOptions(msg, Opt.URI_PATH).map((b) => b.toString('utf8'));
export const uriQuery = (msg: CoapMessage): string[] => getOptions(msg, Opt.URI_QUERY).map((b) => b.toString('utf8'));
export const contentFormat = (msg: CoapMessage): number | undefined => getUintOption(msg, Opt.CONTENT_FORMAT);
export const observeValue = (msg: CoapMessage): number | undefined => getUintOption(msg, Opt.OBSERVE);

/** Block option value (RFC 7959 §2.2): NUM (up to 20 bits), M flag, SZX (size = 2^(SZX+4)). */
export interface BlockValue {
  readonly num: number;
  readonly more: boolean;
  readonly szx: number;
}

export const blockSize = (szx: number): number => 1 << (szx + 4);

/** Largest SZX whose size is ≤ bytes (bytes in 16..1024). */
export function szxFor(bytes: number): number {
  let szx = 6;
  while (szx > 0 && blockSize(szx) > bytes) szx--;
  return szx;
}

export function decodeBlock(b: Buffer): BlockValue {
  if (b.length > 3) throw new CoapFormatError(`block option of ${b.length} bytes is longer than 3`);
  const v = decodeUint(b);
  return { num: v >> 4, more: (v & 0x08) !== 0, szx: v & 0x07 };
}

export function encodeBlock(v: BlockValue): Buffer {
  return encodeUint((v.num << 4) | (v.more ? 0x08 : 0) | v.szx);
}

export function getBlock(msg: CoapMessage, num: typeof Opt.BLOCK1 | typeof Opt.BLOCK2): BlockValue | undefined {
  const v = getOption(msg, num);
  return v === undefined ? undefined : decodeBlock(v);
}

/** Builds the option list of a request from a path and query strings. */
export function pathOptions(path: readonly string[], query: readonly string[] = []): CoapOption[] {
  const out: CoapOption[] = [];
  for (const seg of path) out.push({ number: Opt.URI_PATH, value: Buffer.from(seg, 'utf8') });
  for (const q of query) out.push({ number: Opt.URI_QUERY, value: Buffer.from(q, 'utf8') });
  return out;
}

export const uintOption = (number: number, value: number): CoapOption => ({ number, value: encodeUint(value) });

/** Returns a copy of the options with every occurrence of `numbers` removed. */
export function withoutOptions(opts: readonly CoapOption[], ...numbers: number[]): CoapOption[] {
  return opts.filter((o) => !numbers.includes(o.number));
}

/** Inserts options keeping the list sorted by number (stable for repeated options). */
export function withOptions(opts: readonly CoapOption[], ...added: CoapOption[]): CoapOption[] {
  return [...opts, ...added].sort((a, b) => a.number - b.number);
}
