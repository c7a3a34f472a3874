/**
 * LwM2M values and nodes as typed JSON: the value encoding of the Kafka contract
 * (docs/kafka/README.md, "Values"), shared by every record that carries device data.
 *
 * | LwM2M type (LwM2M-Core 1.2 Appendix C) | JSON                                              |
 * |-----------------------------------------|---------------------------------------------------|
 * | INTEGER, UNSIGNED_INTEGER               | number; a decimal string beyond ±(2^53 − 1)       |
 * | FLOAT                                   | number; "NaN", "Infinity", "-Infinity" as strings |
 * | BOOLEAN                                 | boolean                                           |
 * | STRING, CORELNK                         | string                                            |
 * | OPAQUE                                  | string, standard base64 with padding              |
 * | TIME                                    | string, ISO 8601 UTC ("2024-05-01T12:00:00.000Z") |
 * | OBJLNK                                  | string "objectId:instanceId" ("3:0")              |
 *
 * Structured nodes become objects keyed by id: a multi-instance resource `{"<riid>": value}`,
 * an object instance `{"<rid>": value | {"<riid>": value}}`, an object `{"<iid>": {...}}`.
 * The LwM2M type of a resource travels beside the value (`types`), so that base64 and time strings
 * are never guessed.
 */
import { CodecError } from '../common/errors';
import type { LwM2mNode } from '../lwm2m/node';
import { isObjlnk, type LwM2mValue, type ResourceType } from '../lwm2m/value';

export type JsonLeaf = number | boolean | string;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}
export type JsonValue = JsonLeaf | JsonObject;

export function leafToJson(value: LwM2mValue): JsonLeaf {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString(10);
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Date) {
    if (!Number.isFinite(value.getTime())) throw new CodecError('TIME value is not a valid date');
    return value.toISOString();
  }
  if (isObjlnk(value)) return `${value.objectId}:${value.instanceId}`;
  throw new CodecError(`value of unexpected JavaScript type ${typeof value}`);
}

function byId<T>(entries: ReadonlyMap<number, T>, convert: (v: T) => JsonValue): JsonObject {
  const out: Record<string, JsonValue> = {};
  for (const [id, v] of entries) out[String(id)] = convert(v);
  return out;
}

/** A node as typed JSON: a leaf for a single value, objects keyed by id for structured nodes. */
export function nodeToJson(node: LwM2mNode): JsonValue {
  switch (node.kind) {
    case 'resource':
    case 'resourceInstance':
      return leafToJson(node.value);
    case 'multiResource':
      return byId(node.instances, leafToJson);
    case 'instance':
      return byId(node.resources, nodeToJson);
    case 'object':
      return byId(node.instances, nodeToJson);
  }
}

/** The LwM2M type of a resource-level node (the `types` hint); undefined for instances and objects. */
export function nodeResourceType(node: LwM2mNode): ResourceType | undefined {
  return node.kind === 'instance' || node.kind === 'object' ? undefined : node.type;
}
