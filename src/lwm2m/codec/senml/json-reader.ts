/**
 * SenML JSON text → raw records (RFC 8428 §5): a JSON array of flat objects.
 *
 * A dedicated scanner rather than JSON.parse: integer literals beyond 2^53 must reach the model
 * as exact bigints (JSON.parse would round them), and records are filled directly without an
 * intermediate object tree. Unknown labels are skipped (RFC 8428 §4.4) whatever their JSON value.
 */
import { CodecError } from '../../../errors';
import { decodeBase64Url } from './base64';
import { OBJLNK_LABEL, type RawRecord, type RecordValue, type ValueKind } from './record';

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

type Scalar = string | number | bigint | boolean | null;
const LITERALS: ReadonlyArray<[string, Scalar]> = [['true', true], ['false', false], ['null', null]];

class Scanner {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly where: string,
  ) {}

  fail(message: string): CodecError {
    return new CodecError(`invalid SenML JSON: ${message} at offset ${this.i}`, this.where);
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.i);
  }

  /** Skips whitespace and consumes `ch` if it is next. */
  eat(ch: string): boolean {
    this.ws();
    if (this.s[this.i] !== ch) return false;
    this.i++;
    return true;
  }

  expect(ch: string): void {
    if (!this.eat(ch)) throw this.fail(`expected "${ch}"`);
  }

  atEnd(): boolean {
    this.ws();
    return this.i >= this.s.length;
  }

  string(): string {
    this.expect('"');
    const s = this.s;
    const start = this.i;
    const close = s.indexOf('"', start);
    if (close < 0) throw this.fail('unterminated string');
    const plain = s.indexOf('\\', start);
    if (plain < 0 || plain > close) {
      this.i = close + 1;
      return s.slice(start, close);
    }
    // Escapes present: let the platform decode exactly this literal (RFC 8259 §7).
    let j = start;
    while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) throw this.fail('unterminated string');
    this.i = j + 1;
    try {
      return JSON.parse(s.slice(start - 1, j + 1)) as string;
    } catch {
      throw new CodecError(`invalid SenML JSON: bad string escape at offset ${start}`, this.where);
    }
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) throw this.fail('bad number');
    this.i = NUMBER.lastIndex;
    const text = m[0];
    if (m[1] === undefined && m[2] === undefined && text.length > 15) {
      const big = BigInt(text);
      if (big > MAX_SAFE || big < -MAX_SAFE) return big;
    }
    return Number(text);
  }

  scalar(): Scalar {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') return this.string();
    if (c === 't' || c === 'f' || c === 'n') {
      for (const [word, value] of LITERALS) {
        if (this.s.startsWith(word, this.i)) {
          this.i += word.length;
          return value;
        }
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    throw this.fail(c === undefined ? 'unexpected end' : `unexpected "${c}"`);
  }

  /** Skips any JSON value (for labels this implementation does not know). */
  skip(depth = 0): void {
    if (depth > 32) throw this.fail('nesting too deep');
    const open = this.eat('[') ? ']' : this.eat('{') ? '}' : undefined;
    if (open === undefined) return void this.scalar();
    if (this.eat(open)) return;
    do {
      if (open === '}') {
        this.string();
        this.expect(':');
      }
      this.skip(depth + 1);
    } while (this.eat(','));
    this.expect(open);
  }
}

function str(v: Scalar, label: string, sc: Scanner): string {
  if (typeof v !== 'string') throw sc.fail(`label "${label}" must be a string`);
  return v;
}

function num(v: Scalar, label: string, sc: Scanner): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'number') throw sc.fail(`label "${label}" must be a number`);
  return v;
}

function setValue(r: RawRecord, kind: ValueKind, value: RecordValue, sc: Scanner): void {
  // RFC 8428 §4.2: exactly one value field per record.
  if (r.kind !== undefined) throw sc.fail('record has more than one value field');
  r.kind = kind;
  r.value = value;
}

function member(r: RawRecord, label: string, sc: Scanner, where: string): void {
  switch (label) {
    case 'bver': return void (r.bver = num(sc.scalar(), label, sc));
    case 'bn': return void (r.bn = str(sc.scalar(), label, sc));
    case 'n': return void (r.n = str(sc.scalar(), label, sc));
    case 'bt': return void (r.bt = num(sc.scalar(), label, sc));
    case 't': return void (r.t = num(sc.scalar(), label, sc));
    case 'bu': return void (r.bu = str(sc.scalar(), label, sc));
    case 'u': return void (r.u = str(sc.scalar(), label, sc));
    case 'bs': return void (r.bs = num(sc.scalar(), label, sc));
    case 's': return void (r.s = num(sc.scalar(), label, sc));
    case 'ut': return void (r.ut = num(sc.scalar(), label, sc));
    case 'bv': {
      const v = sc.scalar();
      if (typeof v !== 'number' && typeof v !== 'bigint') throw sc.fail('label "bv" must be a number');
      return void (r.bv = v);
    }
    case 'v': {
      const v = sc.scalar();
      if (typeof v !== 'number' && typeof v !== 'bigint') throw sc.fail('label "v" must be a number');
      return setValue(r, 'v', v, sc);
    }
    case 'vs': return setValue(r, 'vs', str(sc.scalar(), label, sc), sc);
    case 'vb': {
      const v = sc.scalar();
      if (typeof v !== 'boolean') throw sc.fail('label "vb" must be a boolean');
      return setValue(r, 'vb', v, sc);
    }
    case 'vd': return setValue(r, 'vd', decodeBase64Url(str(sc.scalar(), label, sc), where), sc);
    case OBJLNK_LABEL: return setValue(r, 'vlo', str(sc.scalar(), label, sc), sc);
    default:
      // RFC 8428 §4.4: unknown labels are ignored, unless they end with "_" (must-understand).
      if (label.endsWith('_')) throw sc.fail(`unsupported must-understand label "${label}"`);
      sc.skip();
  }
}

/** Parses a SenML JSON pack; `where` names the LwM2M path for error messages. */
export function readSenmlJson(payload: Buffer, where: string): RawRecord[] {
  const sc = new Scanner(payload.toString('utf8'), where);
  const records: RawRecord[] = [];
  if (!sc.eat('[')) throw sc.fail('a SenML pack must be a JSON array');
  if (!sc.eat(']')) {
    do {
      if (!sc.eat('{')) throw sc.fail('a SenML record must be a JSON object');
      const r: RawRecord = {};
      if (!sc.eat('}')) {
        do {
          const label = sc.string();
          sc.expect(':');
          member(r, label, sc, where);
        } while (sc.eat(','));
        sc.expect('}');
      }
      records.push(r);
    } while (sc.eat(','));
    sc.expect(']');
  }
  if (!sc.atEnd()) throw sc.fail('trailing data after the SenML pack');
  return records;
}
