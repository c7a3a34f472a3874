/**
 * SenML JSON text → raw records (RFC 8428 §5): a JSON array of flat objects.
 *
 * A dedicated scanner rather than JSON.parse: integer literals beyond 2^53 must reach the model
 * as exact bigints (JSON.parse would round them), and records are filled directly without an
 * intermediate object tree. Unknown labels are skipped (RFC 8428 §4.4) whatever their JSON value.
 */
import { CodecError } from '../../../common/errors';
import { decodeBase64Url } from './base64';
import { OBJLNK_LABEL, type RawRecord, type RecordValue, type ValueKind } from './record';

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

type Scalar = string | number | bigint | boolean | null;
const LITERALS: ReadonlyArray<[string, Scalar]> = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/** Characters that may appear in a JSON number. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

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

  /** Skips whitespace and consumes the character `code` if it is next. */
  eat(code: number): boolean {
    this.ws();
    if (this.s.charCodeAt(this.i) !== code) return false;
    this.i++;
    return true;
  }

  expect(code: number): void {
    if (!this.eat(code)) throw this.fail(`expected "${String.fromCharCode(code)}"`);
  }

  atEnd(): boolean {
    this.ws();
    return this.i >= this.s.length;
  }

  string(): string {
    this.expect(QUOTE);
    const s = this.s;
    const start = this.i;
    let j = start;
    let c = s.charCodeAt(j);
    while (c !== QUOTE && c !== BACKSLASH && j < s.length) c = s.charCodeAt(++j);
    if (c === QUOTE) {
      this.i = j + 1;
      return s.slice(start, j);
    }
    // Escapes present: let the platform decode exactly this literal (RFC 8259 §7).
    while (j < s.length && s.charCodeAt(j) !== QUOTE) j += s.charCodeAt(j) === BACKSLASH ? 2 : 1;
    if (j >= s.length) throw this.fail('unterminated string');
    this.i = j + 1;
    try {
      return JSON.parse(s.slice(start - 1, j + 1)) as string;
    } catch {
      throw new CodecError(`invalid SenML JSON: bad string escape at offset ${start}`, this.where);
    }
  }

  number(): number | bigint {
    const s = this.s;
    const start = this.i;
    let j = start;
    let integral = true;
    for (let c = s.charCodeAt(j); isNumberChar(c); c = s.charCodeAt(++j)) {
      if (c === 0x2e || c === 0x65 || c === 0x45) integral = false;
    }
    const text = s.slice(start, j);
    if (!NUMBER.test(text)) throw this.fail('bad number');
    this.i = j;
    if (integral && text.length > 15) {
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
    const close = this.eat(0x5b) ? 0x5d : this.eat(0x7b) ? 0x7d : undefined;
    if (close === undefined) return void this.scalar();
    if (this.eat(close)) return;
    do {
      if (close === 0x7d) {
        this.string();
        this.expect(0x3a);
      }
      this.skip(depth + 1);
    } while (this.eat(0x2c));
    this.expect(close);
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
    case 'bver':
      return void (r.bver = num(sc.scalar(), label, sc));
    case 'bn':
      return void (r.bn = str(sc.scalar(), label, sc));
    case 'n':
      return void (r.n = str(sc.scalar(), label, sc));
    case 'bt':
      return void (r.bt = num(sc.scalar(), label, sc));
    case 't':
      return void (r.t = num(sc.scalar(), label, sc));
    case 'bu':
      return void (r.bu = str(sc.scalar(), label, sc));
    case 'u':
      return void (r.u = str(sc.scalar(), label, sc));
    case 'bs':
      return void (r.bs = num(sc.scalar(), label, sc));
    case 's':
      return void (r.s = num(sc.scalar(), label, sc));
    case 'ut':
      return void (r.ut = num(sc.scalar(), label, sc));
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
    case 'vs':
      return setValue(r, 'vs', str(sc.scalar(), label, sc), sc);
    case 'vb': {
      const v = sc.scalar();
      if (typeof v !== 'boolean') throw sc.fail('label "vb" must be a boolean');
      return setValue(r, 'vb', v, sc);
    }
    case 'vd':
      return setValue(r, 'vd', decodeBase64Url(str(sc.scalar(), label, sc), where), sc);
    case OBJLNK_LABEL:
      return setValue(r, 'vlo', str(sc.scalar(), label, sc), sc);
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
  if (!sc.eat(0x5b)) throw sc.fail('a SenML pack must be a JSON array');
  if (!sc.eat(0x5d)) {
    do {
      if (!sc.eat(0x7b)) throw sc.fail('a SenML record must be a JSON object');
      const r: RawRecord = {};
      if (!sc.eat(0x7d)) {
        do {
          const label = sc.string();
          sc.expect(0x3a);
          member(r, label, sc, where);
        } while (sc.eat(0x2c));
        sc.expect(0x7d);
      }
      records.push(r);
    } while (sc.eat(0x2c));
    sc.expect(0x5d);
  }
  if (!sc.atEnd()) throw sc.fail('trailing data after the SenML pack');
  return records;
}
