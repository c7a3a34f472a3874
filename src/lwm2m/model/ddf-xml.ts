/**
 * Reading helpers over the plain-object tree that fast-xml-parser produces (attributes prefixed "@_").
 * DDF files in the wild vary in casing and layout, so element and attribute names match
 * case-insensitively, exact spelling first.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { errorMessage } from '../../common/error-message';

export type XmlNode = { readonly [key: string]: unknown };

const ATTR = '@_';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  cdataPropName: false,
});

export function isXmlNode(v: unknown): v is XmlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A problem with the XML text itself: message with line and column. */
export type XmlParseResult = { ok: true; doc: XmlNode } | { ok: false; problem: string };

/** Validates then parses `xml` (a leading BOM and whitespace are dropped first). */
export function parseXml(xml: string): XmlParseResult {
  const text = (xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml).trimStart();
  if (text === '') return { ok: false, problem: 'empty document' };
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    return { ok: false, problem: `malformed XML at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}` };
  }
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch (e) {
    return { ok: false, problem: `malformed XML: ${errorMessage(e)}` };
  }
  return isXmlNode(doc) ? { ok: true, doc } : { ok: false, problem: 'no root element' };
}

function keyFor(node: XmlNode, name: string): string | undefined {
  if (name in node) return name;
  const lower = name.toLowerCase();
  for (const k of Object.keys(node)) if (k.toLowerCase() === lower) return k;
  return undefined;
}

/** Element names (not attributes, not text) directly under `node`. */
export function elementNames(node: XmlNode): string[] {
  return Object.keys(node).filter((k) => !k.startsWith(ATTR) && k !== '#text');
}

/** All child elements called `name`, in document order. */
export function children(node: XmlNode, name: string): unknown[] {
  const key = keyFor(node, name);
  if (key === undefined) return [];
  const v = node[key];
  return Array.isArray(v) ? v : [v];
}

/** The value of attribute `name`, trimmed. */
export function attribute(node: XmlNode, name: string): string | undefined {
  const key = keyFor(node, ATTR + name);
  if (key === undefined) return undefined;
  const v = node[key];
  return typeof v === 'string' ? v.trim() : undefined;
}

/** Text content of an element value: "" for an empty element, undefined when it has no text. */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isXmlNode(v)) {
    const t = v['#text'];
    if (t === undefined) return elementNames(v).length === 0 ? '' : undefined;
    return textOf(t);
  }
  return undefined;
}

/** Text of the first child element `name`; undefined when absent. */
export function childText(node: XmlNode, name: string): string | undefined {
  const [first] = children(node, name);
  return first === undefined ? undefined : textOf(first);
}
