/**
 * Typed JSON (the contract's value encoding, src/contract/values.ts) → LwM2M nodes, typed by
 * the object model, for Write, Write-Composite and Create requests:
 *
 * | Resource type       | accepted JSON                                                          |
 * |---------------------|------------------------------------------------------------------------|
 * | INTEGER             | integer number, or decimal string (beyond ±(2^53 − 1))                  |
 * | UNSIGNED_INTEGER    | as INTEGER, not negative                                               |
 * | FLOAT               | number, or "NaN" / "Infinity" / "-Infinity"                            |
 * | BOOLEAN             | boolean, or "true" / "false"                                           |
 * | STRING, CORELNK     | string (numbers and booleans are written as their text)                |
 * | OPAQUE              | base64 string, as in records; or hex with a "0x" prefix ("0x00ac")    |
 * | TIME                | ISO 8601 string, or Unix seconds as a number                           |
 * | OBJLNK              | "objectId:instanceId"                                                  |
 *
 * Structured values are objects keyed by id, as in records: a multi-instance resource
 * `{"<riid>": value}`, an object instance `{"<rid>": value}`. Every error names the path.
 */
import { BridgeError, CodecError } from '../common/errors';
import type { ObjectModelLookup, ResourceModel } from '../lwm2m/model/types';
import type { LwM2mNode, ObjectInstance, Resource } from '../lwm2m/node';
import { instance, multi, resourceInstance, single } from '../lwm2m/node';
import { formatPath, MAX_ID, pathLevel, type LwM2mPath } from '../lwm2m/path';
import type { LwM2mValue, Objlnk, ResourceType } from '../lwm2m/value';
import { checkInteger, parseObjlnk, type IntegerType } from '../lwm2m/codec/value-rules';

export class RpcValueError extends BridgeError {
  constructor(message: string) {
    super('LWM2M_BAD_REQUEST', message);
  }
}

type Json = unknown;

const INTEGER_TEXT = /^-?\d+$/;

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function integer(v: Json, where: string, type: IntegerType): number | bigint {
  let n: number | bigint;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && INTEGER_TEXT.test(v.trim())) n = BigInt(v.trim());
  else throw new RpcValueError(`${where}: expected an integer, got ${JSON.stringify(v)}`);
  if (type === 'UNSIGNED_INTEGER' && n < 0)
    throw new RpcValueError(`${where}: expected an unsigned integer, got ${String(n)}`);
  // LwM2M-Core 1.2 Appendix C ranges, as every codec checks them (value-rules.ts).
  return asRpcValue(() => checkInteger(n, type, where));
}

/** A value rule's CodecError as the RPC's own error (a BAD_REQUEST naming the request's path). */
function asRpcValue<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw err instanceof CodecError ? new RpcValueError(err.message) : err;
  }
}

function float(v: Json, where: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new RpcValueError(`${where}: expected a number, got ${JSON.stringify(v)}`);
}

function boolean(v: Json, where: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new RpcValueError(`${where}: expected a boolean, got ${JSON.stringify(v)}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^0x((?:[0-9a-fA-F]{2})*)$/;

function opaque(v: Json, where: string): Buffer {
  if (typeof v === 'string') {
    // Base64 is what records carry; "0x" hex is unambiguous (a bare "00AC" is valid base64 too).
    const hex = HEX.exec(v);
    if (hex) return Buffer.from(hex[1] as string, 'hex');
    if (BASE64.test(v)) return Buffer.from(v, 'base64');
  }
  throw new RpcValueError(`${where}: expected base64 or "0x" hex for an OPAQUE value, got ${JSON.stringify(v)}`);
}

function time(v: Json, where: string): Date {
  const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : undefined;
  if (d === undefined || !Number.isFinite(d.getTime()))
    throw new RpcValueError(`${where}: expected an ISO 8601 time or Unix seconds, got ${JSON.stringify(v)}`);
  return d;
}

function objlnk(v: Json, where: string): Objlnk {
  if (typeof v !== 'string')
    throw new RpcValueError(`${where}: expected an Objlnk "objectId:instanceId", got ${JSON.stringify(v)}`);
  return asRpcValue(() => parseObjlnk(v, where));
}

/** One value of `type` from JSON. */
export function jsonToValue(type: ResourceType, v: Json, where: string): LwM2mValue {
  switch (type) {
    case 'INTEGER':
      return integer(v, where, 'INTEGER');
    case 'UNSIGNED_INTEGER':
      return integer(v, where, 'UNSIGNED_INTEGER');
    case 'FLOAT':
      return float(v, where);
    case 'BOOLEAN':
      return boolean(v, where);
    case 'OPAQUE':
      return opaque(v, where);
    case 'TIME':
      return time(v, where);
    case 'OBJLNK':
      return objlnk(v, where);
    case 'STRING':
    case 'CORELNK':
    case 'NONE':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw new RpcValueError(`${where}: expected a string, got ${JSON.stringify(v)}`);
  }
}

function id(text: string, where: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > MAX_ID) throw new RpcValueError(`${where}: "${text}" is not an id`);
  return Number(text);
}

export interface NodeContext {
  readonly model: ObjectModelLookup;
  /** Object version the device registered, by object id. */
  readonly versions: ReadonlyMap<number, string>;
}

function resourceModel(ctx: NodeContext, objectId: number, resourceId: number, where: string): ResourceModel {
  const r = ctx.model.getResource(objectId, resourceId, ctx.versions.get(objectId));
  if (r === undefined)
    throw new RpcValueError(
      `${where}: resource ${resourceId} of object ${objectId} is not in the object model, so its type is unknown`,
    );
  return r;
}

function resourceNode(ctx: NodeContext, objectId: number, resourceId: number, v: Json, where: string): Resource {
  const model = resourceModel(ctx, objectId, resourceId, where);
  if (!model.multiple) {
    if (isPlainObject(v)) throw new RpcValueError(`${where}: single-instance resource takes a value, not an object`);
    return single(resourceId, model.type, jsonToValue(model.type, v, where));
  }
  if (!isPlainObject(v)) throw new RpcValueError(`${where}: multi-instance resource takes {"<instance id>": value}`);
  const entries: [number, LwM2mValue][] = Object.entries(v).map(([k, x]) => [
    id(k, where),
    jsonToValue(model.type, x, `${where}/${k}`),
  ]);
  return multi(resourceId, model.type, entries);
}

function instanceNode(ctx: NodeContext, objectId: number, instanceId: number, v: Json, where: string): ObjectInstance {
  if (!isPlainObject(v)) throw new RpcValueError(`${where}: an object instance takes {"<resource id>": value}`);
  const resources = Object.entries(v).map(([k, x]) => resourceNode(ctx, objectId, id(k, where), x, `${where}/${k}`));
  if (resources.length === 0) throw new RpcValueError(`${where}: no resources given`);
  return instance(instanceId, resources);
}

/** The node a Write carries to `path` (an instance, a resource or a resource instance). */
export function jsonToNode(ctx: NodeContext, path: LwM2mPath, v: Json): LwM2mNode {
  const where = formatPath(path);
  const { objectId, instanceId, resourceId, resourceInstanceId } = path;
  switch (pathLevel(path)) {
    case 'instance':
      return instanceNode(ctx, objectId as number, instanceId as number, v, where);
    case 'resource':
      return resourceNode(ctx, objectId as number, resourceId as number, v, where);
    case 'resourceInstance': {
      const model = resourceModel(ctx, objectId as number, resourceId as number, where);
      if (!model.multiple)
        throw new RpcValueError(`${where}: resource ${resourceId} is single-instance, it has no resource instances`);
      return resourceInstance(resourceInstanceId as number, model.type, jsonToValue(model.type, v, where));
    }
    default:
      throw new RpcValueError(`${where}: a value is written to an object instance, a resource or a resource instance`);
  }
}

/** The instances a Create carries: `{"<resource id>": value}` for one instance `instanceId`. */
export function jsonToInstance(ctx: NodeContext, objectId: number, instanceId: number, v: Json): ObjectInstance {
  return instanceNode(ctx, objectId, instanceId, v, `/${objectId}/${instanceId}`);
}
