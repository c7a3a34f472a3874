/**
 * CoRE Link Format (RFC 6690 §2), as used by Register/Update payloads and Discover responses:
 *
 *   Link       = link-value *( "," link-value )
 *   link-value = "<" URI-Reference ">" *( ";" link-param )
 *   link-param = parmname [ "=" ( ptoken / quoted-string ) ]
 *
 * Blanks around "," and ";" are tolerated (LwM2M examples use ", "). Parameter names are
 * case-insensitive (RFC 8288 §3) and are returned lower-cased; quoted values are unquoted
 * (backslash escapes resolved). When a parameter repeats, the first occurrence counts (RFC 8288 §3.3).
 */
import { LinkFormatError } from '../common/errors';

export type LinkParams = Record<string, string | true>;

export interface Link {
  readonly uri: string;
  readonly params: LinkParams;
}

const COMMA = 0x2c;
const SEMI = 0x3b;
const EQ = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LT = 0x3c;

/** RFC 5987 parmname characters, plus "*" for ext-name-star (RFC 6690 §2 "title*"). */
const PARMNAME = charSet('!#$&+-.^_`|~*');
/** RFC 6690 §2 ptokenchar. */
const PTOKEN = charSet("!#$%&'()*+-./:<=>?@[]^_`{|}~");

function charSet(extra: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) set[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) set[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) set[c] = 1;
  for (const ch of extra) set[ch.charCodeAt(0)] = 1;
  return set;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function describe(text: string, at: number): string {
  return at >= text.length ? 'end of input' : `"${text[at]}"`;
}

/** Parses a link-format document; throws LinkFormatError with the offset of the first problem. */
export function parseLinkFormat(text: string): Link[] {
  const links: Link[] = [];
  const n = text.length;
  let i = 0;
  const skipBlanks = (): void => {
    while (i < n && isBlank(text.charCodeAt(i))) i++;
  };
  const fail = (what: string): never => {
    throw new LinkFormatError(`invalid link format: ${what} at offset ${i}, found ${describe(text, i)}`);
  };

  skipBlanks();
  if (i === n) return links;
  for (;;) {
    if (text.charCodeAt(i) !== LT) fail('expected "<"');
    const end = text.indexOf('>', i + 1);
    if (end < 0) fail('unterminated URI-Reference ("<" without ">")');
    const uri = text.slice(i + 1, end);
    for (let k = 0; k < uri.length; k++) {
      const c = uri.charCodeAt(k);
      if (c <= 0x20 || c === 0x7f || c === LT || c === DQUOTE) {
        i += 1 + k;
        fail('invalid character in URI-Reference');
      }
    }
    i = end + 1;
    const params: LinkParams = Object.create(null) as LinkParams;
    for (;;) {
      skipBlanks();
      if (text.charCodeAt(i) !== SEMI) break;
      i++;
      skipBlanks();
      const nameStart = i;
      while (i < n && PARMNAME[text.charCodeAt(i)] === 1) i++;
      if (i === nameStart) fail('expected a parameter name');
      const name = text.slice(nameStart, i).toLowerCase();
      let value: string | true = true;
      if (text.charCodeAt(i) === EQ) {
        i++;
        if (text.charCodeAt(i) === DQUOTE) value = readQuoted();
        else {
          const valueStart = i;
          while (i < n && PTOKEN[text.charCodeAt(i)] === 1) i++;
          if (i === valueStart) fail(`expected a value for "${name}"`);
          value = text.slice(valueStart, i);
        }
      }
      if (!(name in params)) params[name] = value;
    }
    links.push({ uri, params });
    if (i === n) return links;
    if (text.charCodeAt(i) !== COMMA) fail('expected "," or ";"');
    i++;
    skipBlanks();
  }

  function readQuoted(): string {
    const start = i;
    i++; // opening quote
    let out = '';
    let chunk = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === DQUOTE) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c === BACKSLASH) {
        if (i + 1 >= n) break;
        out += text.slice(chunk, i) + text[i + 1];
        i += 2;
        chunk = i;
        continue;
      }
      i++;
    }
    i = start;
    return fail('unterminated quoted-string');
  }
}

/** Parameters whose values are written quoted, as RFC 6690 §5 and LwM2M examples do (e.g. rt="oma.lwm2m"). */
const ALWAYS_QUOTED: ReadonlySet<string> = new Set([
  'rt',
  'if',
  'rel',
  'rev',
  'anchor',
  'title',
  'hreflang',
  'media',
  'type',
]);

function isToken(value: string, set: Uint8Array): boolean {
  if (value === '') return false;
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c >= 128 || set[c] !== 1) return false;
  }
  return true;
}

/** Writes links as link-format text, the inverse of parseLinkFormat. */
export function serializeLinkFormat(links: readonly Link[]): string {
  const parts: string[] = [];
  for (const link of links) {
    if (/[\s<>"]/.test(link.uri)) throw new LinkFormatError(`cannot serialize link URI "${link.uri}"`);
    let s = `<${link.uri}>`;
    for (const [name, value] of Object.entries(link.params)) {
      if (!isToken(name, PARMNAME)) throw new LinkFormatError(`cannot serialize link parameter name "${name}"`);
      if (value === true) s += `;${name}`;
      else if (!ALWAYS_QUOTED.has(name) && isToken(value, PTOKEN)) s += `;${name}=${value}`;
      else s += `;${name}="${value.replace(/["\\]/g, '\\$&')}"`;
    }
    parts.push(s);
  }
  return parts.join(',');
}
