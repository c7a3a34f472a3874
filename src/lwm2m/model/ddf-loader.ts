/**
 * Loads OMA DDF object definitions (LWM2M.xsd for LwM2M 1.0, LWM2M-v1_1.xsd for 1.1 and later):
 * <LWM2M><Object ObjectType="MODefinition"> with ObjectID, ObjectVersion and <Resources><Item ID>.
 * Tolerant of layout (BOM, whitespace, casing, optional elements left out); strict about what
 * decoding depends on: object and resource ids, Operations and Type. Descriptions are not kept.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ModelError } from '../../common/errors';
import { MAX_ID } from '../path';
import type { ResourceType } from '../value';
import { attribute, childText, children, elementNames, isXmlNode, parseXml, type XmlNode } from './ddf-xml';
import { DEFAULT_OBJECT_VERSION, canonicalObjectVersion } from './object-version';
import type { ObjectModel, Operations, ResourceModel } from './types';
import { errorMessage } from '../../common/error-message';

/**
 * DDF <Type> values (LwM2M-Core 1.1 Appendix C), compared without case or blanks. Empty is NONE: Execute
 * resources, and the odd readable resource the registry leaves untyped (10482/5).
 */
const TYPES: ReadonlyMap<string, ResourceType> = new Map<string, ResourceType>([
  ['string', 'STRING'],
  ['integer', 'INTEGER'],
  ['unsignedinteger', 'UNSIGNED_INTEGER'],
  ['float', 'FLOAT'],
  ['boolean', 'BOOLEAN'],
  ['opaque', 'OPAQUE'],
  ['time', 'TIME'],
  ['objlnk', 'OBJLNK'],
  ['corelnk', 'CORELNK'],
  ['', 'NONE'],
]);

const OPERATIONS: ReadonlyMap<string, Operations> = new Map<string, Operations>([
  ['R', 'R'],
  ['W', 'W'],
  ['RW', 'RW'],
  ['E', 'E'],
  ['', 'NONE'],
]);

/** What a DDF file turned out to hold: object definitions, or something else (e.g. the DDF index). */
export type DdfDocument = { kind: 'objects'; models: ObjectModel[] } | { kind: 'other'; reason: string };

function parseId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined; // 65535 is reserved (see ../path.ts)
}

/** Names as written, with runs of blanks (some registry names have double spaces or line breaks) made one space. */
function cleanName(text: string | undefined): string {
  return text === undefined ? '' : text.replace(/\s+/g, ' ');
}

function parseVersion(text: string | undefined, what: string, where: string): string {
  if (text === undefined || text === '') return DEFAULT_OBJECT_VERSION; // LwM2M-Core 1.1 §7.2.2: absent → 1.0
  const v = canonicalObjectVersion(text);
  if (v === undefined) throw new ModelError(`${where}: invalid <${what}> "${text}" (expected major.minor)`);
  return v;
}

function parseFlag(node: XmlNode, element: string, yes: string, no: string, where: string): boolean {
  const text = childText(node, element);
  if (text === undefined || text === '') return false;
  const lower = text.toLowerCase();
  if (lower === yes.toLowerCase()) return true;
  if (lower === no.toLowerCase()) return false;
  throw new ModelError(`${where}: invalid <${element}> "${text}" (expected ${yes} or ${no})`);
}

function parseResource(item: unknown, index: number, objectWhere: string): ResourceModel {
  if (!isXmlNode(item)) throw new ModelError(`${objectWhere}: Item #${index + 1} has no ID attribute`);
  const name = cleanName(childText(item, 'Name'));
  const label = name === '' ? `Item #${index + 1}` : `Item #${index + 1} "${name}"`;
  const idText = attribute(item, 'ID');
  if (idText === undefined || idText === '') throw new ModelError(`${objectWhere}: ${label} has no ID attribute`);
  const id = parseId(idText);
  if (id === undefined) throw new ModelError(`${objectWhere}: ${label} has an invalid ID "${idText}"`);
  const where = `${objectWhere} item ${id}${name === '' ? '' : ` "${name}"`}`;

  const opsText = childText(item, 'Operations') ?? '';
  const operations = OPERATIONS.get(opsText.replace(/\s+/g, '').toUpperCase());
  if (operations === undefined) throw new ModelError(`${where}: unknown <Operations> "${opsText}"`);
  const typeText = childText(item, 'Type') ?? '';
  const type = TYPES.get(typeText.replace(/[\s_-]+/g, '').toLowerCase());
  if (type === undefined) throw new ModelError(`${where}: unknown <Type> "${typeText}"`);

  const rangeEnumeration = childText(item, 'RangeEnumeration');
  const units = childText(item, 'Units');
  return {
    id,
    name: name === '' ? `Resource ${id}` : name,
    operations,
    multiple: parseFlag(item, 'MultipleInstances', 'Multiple', 'Single', where),
    mandatory: parseFlag(item, 'Mandatory', 'Mandatory', 'Optional', where),
    type,
    ...(rangeEnumeration ? { rangeEnumeration } : {}),
    ...(units ? { units } : {}),
  };
}

function parseObject(node: XmlNode, index: number, source: string): ObjectModel {
  const name = cleanName(childText(node, 'Name'));
  const label = name === '' ? `Object #${index + 1}` : `Object #${index + 1} "${name}"`;
  const idElements = children(node, 'ObjectID');
  if (idElements.length === 0) throw new ModelError(`${source}: ${label} has no <ObjectID>`);
  if (idElements.length > 1) throw new ModelError(`${source}: ${label} has ${idElements.length} <ObjectID> elements`);
  const idText = childText(node, 'ObjectID');
  const id = parseId(idText);
  if (id === undefined) throw new ModelError(`${source}: ${label} has an invalid <ObjectID> "${idText ?? ''}"`);
  const where = `${source}: object ${id}`;

  const [resourcesNode] = children(node, 'Resources');
  const items = isXmlNode(resourcesNode) ? children(resourcesNode, 'Item') : [];
  const resources = new Map<number, ResourceModel>();
  items.forEach((item, i) => {
    const r = parseResource(item, i, where);
    if (resources.has(r.id)) throw new ModelError(`${where}: item ${r.id} is defined twice`);
    resources.set(r.id, r);
  });

  const urn = childText(node, 'ObjectURN');
  return {
    id,
    name: name === '' ? `Object ${id}` : name,
    version: parseVersion(childText(node, 'ObjectVersion'), 'ObjectVersion', where),
    lwm2mVersion: parseVersion(childText(node, 'LWM2MVersion'), 'LWM2MVersion', where),
    multiple: parseFlag(node, 'MultipleInstances', 'Multiple', 'Single', where),
    mandatory: parseFlag(node, 'Mandatory', 'Mandatory', 'Optional', where),
    ...(urn ? { urn } : {}),
    resources,
  };
}

/** Reads a DDF document; throws ModelError naming `source` (and the object and item) on bad content. */
export function readDdf(xml: string, source: string): DdfDocument {
  const parsed = parseXml(xml);
  if (!parsed.ok) throw new ModelError(`${source}: ${parsed.problem}`);
  const [rootName] = elementNames(parsed.doc);
  const [root] = children(parsed.doc, 'LWM2M');
  if (!isXmlNode(root)) return { kind: 'other', reason: `root element is <${rootName ?? '?'}>, not <LWM2M>` };
  const objects = children(root, 'Object').filter((o): o is XmlNode => {
    if (!isXmlNode(o)) return false;
    const type = attribute(o, 'ObjectType');
    return type === undefined || type === '' || type.toLowerCase() === 'modefinition';
  });
  if (objects.length === 0) return { kind: 'other', reason: 'no <Object ObjectType="MODefinition">' };

  const models = objects.map((o, i) => parseObject(o, i, source));
  const seen = new Set<string>();
  for (const m of models) {
    const key = `${m.id}@${m.version}`;
    if (seen.has(key)) throw new ModelError(`${source}: object ${m.id} version ${m.version} is defined twice`);
    seen.add(key);
  }
  return { kind: 'objects', models };
}

/** Parses one DDF file's text into its object definitions (one or more). */
export function parseDdf(xml: string, source: string): ObjectModel[] {
  const doc = readDdf(xml, source);
  if (doc.kind === 'other') throw new ModelError(`${source}: not an LwM2M object definition (${doc.reason})`);
  return doc.models;
}

export interface DdfDirectoryResult {
  readonly models: ObjectModel[];
  /** One error per file that could not be used. */
  readonly errors: ModelError[];
  /** Files that yielded object definitions. */
  readonly loaded: string[];
  /** Well-formed XML files that hold no object definition (e.g. the registry's DDF.xml index). */
  readonly skipped: Array<{ file: string; reason: string }>;
}

const READ_CONCURRENCY = 32;

/** Loads every *.xml file in `dir` (not recursive). A bad file is reported in `errors`, the others still load. */
export async function loadDdfDirectory(dir: string): Promise<DdfDirectoryResult> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.xml$/i.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch (e) {
    throw new ModelError(`cannot read object model directory ${dir}: ${errorMessage(e)}`);
  }

  const outcomes: Array<{ file: string; doc?: DdfDocument; error?: ModelError }> = [];
  for (let i = 0; i < names.length; i += READ_CONCURRENCY) {
    const batch = names.slice(i, i + READ_CONCURRENCY).map(async (name) => {
      const file = path.join(dir, name);
      try {
        return { file, doc: readDdf(await readFile(file, 'utf8'), file) };
      } catch (e) {
        const error = e instanceof ModelError ? e : new ModelError(`${file}: ${errorMessage(e)}`);
        return { file, error };
      }
    });
    outcomes.push(...(await Promise.all(batch)));
  }

  const result: DdfDirectoryResult = { models: [], errors: [], loaded: [], skipped: [] };
  for (const o of outcomes) {
    if (o.error) result.errors.push(o.error);
    else if (o.doc?.kind === 'objects') {
      result.models.push(...o.doc.models);
      result.loaded.push(o.file);
    } else if (o.doc?.kind === 'other') result.skipped.push({ file: o.file, reason: o.doc.reason });
  }
  return result;
}
