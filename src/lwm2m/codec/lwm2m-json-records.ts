/**
 * LwM2M JSON text ↔ records (LwM2M-Core 1.0 §6.4.4, 1.1 §7.4.4; Content-Format 11543, legacy 1543):
 *
 *   document = { ["bn": string,] ["bt": number,] "e": [ entry, ... ] }
 *   entry    = { ["n": string,] one of ("v": number | "sv": string | "bv": boolean | "ov": "oid:iid") [, "t": number] }
 *
 * A small strict parser rather than JSON.parse: it rejects unknown and duplicate keys and keeps integer
 * literals beyond 2^53 exact (as bigint), which JSON.parse would round.
 */
import type { CodecError } from '../../common/errors';
import { fail } from './codec-common';

export interface JsonEntry {
  readonly n?: string;
  /** Numeric value; a bigint only for an integer literal outside Number's safe range. */
  readonly v?: number | bigint;
  /** Whether "v" was written as an integer literal (no fraction, no exponent). */
  readonly vInteger?: boolean;
  readonly sv?: string;
  readonly bv?: boolean;
  readonly ov?: string;
  readonly t?: number;
}

export interface JsonDoc {
  readonly bn?: string;
  readonly bt?: number;
  readonly e: readonly JsonEntry[];
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Reader {
  pos = 0;
  constructor(
    private readonly s: string,
    private readonly where: string,
  ) {}

  error(msg: string): CodecError {
    return fail(`invalid LwM2M JSON: ${msg} at offset ${this.pos}`, this.where);
  }

  ws(): void {
    let c = this.s.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = this.s.charCodeAt(++this.pos);
  }

  eat(ch: string): boolean {
    this.ws();
    if (this.s[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }

  expect(ch: string): void {
    if (!this.eat(ch)) throw this.error(`expected '${ch}'`);
  }

  string(): string {
    this.expect('"');
    let out = '';
    let start = this.pos;
    for (;;) {
      const c = this.s.charCodeAt(this.pos);
      if (Number.isNaN(c)) throw this.error('unterminated string');
      if (c < 0x20) throw this.error('control character in string');
      if (c === 0x22) break;
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += this.s.slice(start, this.pos);
      const esc = this.s[this.pos + 1] ?? '';
      if (esc === 'u') {
        const hex = this.s.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else {
        const rep = ESCAPES[esc];
        if (rep === undefined) throw this.error('bad escape');
        out += rep;
        this.pos += 2;
      }
      start = this.pos;
    }
    out += this.s.slice(start, this.pos++);
    return out;
  }

  number(): { value: number | bigint; integer: boolean } {
    this.ws();
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (!m) throw this.error('expected a number');
    this.pos = NUMBER.lastIndex;
    const integer = m[1] === undefined && m[2] === undefined;
    const n = Number(m[0]);
    if (integer && !Number.isSafeInteger(n)) return { value: BigInt(m[0]), integer };
    if (!Number.isFinite(n)) throw this.error('number out of range');
    return { value: n, integer };
  }

  boolean(): boolean {
    this.ws();
    if (this.s.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.s.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    throw this.error('expected true or false');
  }

  /** Reads `{ "key": value, ... }`, handing each (unique) key to `onKey`, which must consume the value. */
  object(onKey: (key: string) => void): void {
    this.expect('{');
    if (this.eat('}')) return;
    const seen = new Set<string>();
    do {
      const at = this.pos;
      const key = this.string();
      if (seen.has(key)) {
        this.pos = at;
        throw this.error(`duplicate key "${key}"`);
      }
      seen.add(key);
      this.expect(':');
      onKey(key);
    } while (this.eat(','));
    this.expect('}');
  }
}

function readEntry(r: Reader): JsonEntry {
  const e: { -readonly [K in keyof JsonEntry]: JsonEntry[K] } = {};
  let values = 0;
  r.object((key) => {
    switch (key) {
      case 'n':
        e.n = r.string();
        return;
      case 'v': {
        const num = r.number();
        e.v = num.value;
        e.vInteger = num.integer;
        values++;
        return;
      }
      case 'sv':
        e.sv = r.string();
        values++;
        return;
      case 'bv':
        e.bv = r.boolean();
        values++;
        return;
      case 'ov':
        e.ov = r.string();
        values++;
        return;
      case 't': {
        const t = r.number().value;
        e.t = Number(t);
        return;
      }
      default:
        throw r.error(`unknown entry key "${key}"`);
    }
  });
  // LwM2M-Core 1.0 §6.4.4 / 1.1 §7.4.4: each entry carries exactly one of v, sv, bv, ov.
  if (values !== 1) throw r.error('an entry needs exactly one of "v", "sv", "bv", "ov"');
  return e;
}

/** Parses LwM2M JSON text; `where` (the request path) names errors. */
export function parseLwM2mJson(text: string, where: string): JsonDoc {
  const r = new Reader(text, where);
  const doc: { bn?: string; bt?: number; e?: JsonEntry[] } = {};
  r.object((key) => {
    if (key === 'bn') doc.bn = r.string();
    else if (key === 'bt') doc.bt = Number(r.number().value);
    else if (key === 'e') {
      const entries: JsonEntry[] = [];
      r.expect('[');
      if (!r.eat(']')) {
        do entries.push(readEntry(r));
        while (r.eat(','));
        r.expect(']');
      }
      doc.e = entries;
    } else throw r.error(`unknown key "${key}"`);
  });
  r.ws();
  if (r.pos !== text.length) throw r.error('trailing data after the JSON object');
  if (!doc.e) throw fail('invalid LwM2M JSON: missing "e" array', where);
  return { ...doc, e: doc.e };
}

function num(v: number | bigint): string {
  return typeof v === 'bigint' ? v.toString() : String(v);
}

/** Serialises a document (no whitespace). Numbers must be finite; strings are JSON-escaped. */
export function serializeLwM2mJson(doc: JsonDoc): string {
  let s = '{';
  if (doc.bn !== undefined) s += `"bn":${JSON.stringify(doc.bn)},`;
  if (doc.bt !== undefined) s += `"bt":${num(doc.bt)},`;
  s += '"e":[';
  for (let i = 0; i < doc.e.length; i++) {
    const e = doc.e[i] as JsonEntry;
    if (i > 0) s += ',';
    s += '{';
    if (e.n !== undefined) s += `"n":${JSON.stringify(e.n)},`;
    if (e.v !== undefined) s += `"v":${num(e.v)}`;
    else if (e.sv !== undefined) s += `"sv":${JSON.stringify(e.sv)}`;
    else if (e.bv !== undefined) s += `"bv":${e.bv ? 'true' : 'false'}`;
    else if (e.ov !== undefined) s += `"ov":${JSON.stringify(e.ov)}`;
    if (e.t !== undefined) s += `,"t":${num(e.t)}`;
    s += '}';
  }
  return `${s}]}`;
}
