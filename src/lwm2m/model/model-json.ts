/**
 * JSON form of object models: structural data only (ids, names, versions, flags, operations, type,
 * units, range), no OMA descriptions. Used for the built-in models generated from the OMA registry.
 */
import { ModelError } from '../../common/errors';
import type { ResourceType } from '../value';
import { canonicalObjectVersion } from './object-version';
import type { ObjectModel, Operations, ResourceModel } from './types';

export interface ResourceModelJson {
  readonly id: number;
  readonly name: string;
  readonly operations: string;
  readonly multiple: boolean;
  readonly mandatory: boolean;
  readonly type: string;
  readonly rangeEnumeration?: string;
  readonly units?: string;
}

export interface ObjectModelJson {
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly lwm2mVersion: string;
  readonly multiple: boolean;
  readonly mandatory: boolean;
  readonly urn?: string;
  readonly resources: readonly ResourceModelJson[];
}

export interface ModelsFileJson {
  readonly comment?: string;
  readonly objects: readonly ObjectModelJson[];
}

const OPERATIONS: ReadonlySet<string> = new Set<Operations>(['R', 'W', 'RW', 'E', 'NONE']);
const TYPES: ReadonlySet<string> = new Set<ResourceType>([
  'STRING',
  'INTEGER',
  'UNSIGNED_INTEGER',
  'FLOAT',
  'BOOLEAN',
  'OPAQUE',
  'TIME',
  'OBJLNK',
  'CORELNK',
  'NONE',
]);

function isOperations(s: string): s is Operations {
  return OPERATIONS.has(s);
}
function isResourceType(s: string): s is ResourceType {
  return TYPES.has(s);
}

export function toModelJson(m: ObjectModel): ObjectModelJson {
  const resources = [...m.resources.values()]
    .sort((a, b) => a.id - b.id)
    .map((r): ResourceModelJson => ({
      id: r.id,
      name: r.name,
      operations: r.operations,
      multiple: r.multiple,
      mandatory: r.mandatory,
      type: r.type,
      ...(r.rangeEnumeration ? { rangeEnumeration: r.rangeEnumeration } : {}),
      ...(r.units ? { units: r.units } : {}),
    }));
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    lwm2mVersion: m.lwm2mVersion,
    multiple: m.multiple,
    mandatory: m.mandatory,
    ...(m.urn ? { urn: m.urn } : {}),
    resources,
  };
}

function resourceFromJson(r: ResourceModelJson, where: string): ResourceModel {
  if (!isOperations(r.operations))
    throw new ModelError(`${where} resource ${r.id}: unknown operations "${r.operations}"`);
  if (!isResourceType(r.type)) throw new ModelError(`${where} resource ${r.id}: unknown type "${r.type}"`);
  return {
    id: r.id,
    name: r.name,
    operations: r.operations,
    multiple: r.multiple,
    mandatory: r.mandatory,
    type: r.type,
    ...(r.rangeEnumeration ? { rangeEnumeration: r.rangeEnumeration } : {}),
    ...(r.units ? { units: r.units } : {}),
  };
}

/** Rebuilds a model from its JSON form; ModelError naming `source` when a field is not valid. */
export function fromModelJson(j: ObjectModelJson, source: string): ObjectModel {
  const where = `${source}: object ${j.id}`;
  const version = canonicalObjectVersion(j.version);
  const lwm2mVersion = canonicalObjectVersion(j.lwm2mVersion);
  if (version === undefined) throw new ModelError(`${where}: invalid version "${j.version}"`);
  if (lwm2mVersion === undefined) throw new ModelError(`${where}: invalid lwm2mVersion "${j.lwm2mVersion}"`);
  const resources = new Map<number, ResourceModel>();
  for (const r of j.resources) resources.set(r.id, resourceFromJson(r, where));
  return {
    id: j.id,
    name: j.name,
    version,
    lwm2mVersion,
    multiple: j.multiple,
    mandatory: j.mandatory,
    ...(j.urn ? { urn: j.urn } : {}),
    resources,
  };
}

/** Stable, diff-friendly text: one object header per block, one resource per line. */
export function formatModelsJson(file: ModelsFileJson): string {
  const objects = file.objects.map((o) => {
    const { resources, ...header } = o;
    const head = JSON.stringify(header).slice(1, -1).replace(/,"/g, ', "');
    const lines = resources.map((r) => `      ${JSON.stringify(r).replace(/,"/g, ', "')}`);
    return `    {${head}, "resources": [\n${lines.join(',\n')}\n    ]}`;
  });
  const comment = file.comment === undefined ? '' : `  "comment": ${JSON.stringify(file.comment)},\n`;
  return `{\n${comment}  "objects": [\n${objects.join(',\n')}\n  ]\n}\n`;
}
