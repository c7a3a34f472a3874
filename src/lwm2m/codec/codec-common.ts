/**
 * Helpers shared by the codecs: model lookups and node/path consistency checks (LwM2M-Core 1.1 §7.4:
 * which node a format carries for which path). The value rules of Appendix C are in ./value-rules.ts.
 * Everything thrown here is a CodecError naming the path concerned.
 */
import { CodecError } from '../../common/errors';
import { formatPath, pathLevel, type LwM2mPath } from '../path';
import { resourceInstance, single, type LwM2mNode, type ResourceInstance, type SingleResource } from '../node';
import type { LwM2mValue, ResourceType } from '../value';
import type { ResourceModel } from '../model/types';
import type { CodecContext } from './types';

export function fail(message: string, path: LwM2mPath | string): CodecError {
  return new CodecError(message, typeof path === 'string' ? path : formatPath(path));
}

/** The resource model for `objectId/resourceId`, honouring the object version the device announced. */
export function resourceModel(ctx: CodecContext, objectId: number, resourceId: number): ResourceModel | undefined {
  return ctx.model.getResource(objectId, resourceId, ctx.versions?.get(objectId));
}

/** Leaf path → the model's type (or undefined when the resource is unknown). */
export function modelType(ctx: CodecContext, path: LwM2mPath): ResourceType | undefined {
  if (path.objectId === undefined || path.resourceId === undefined) return undefined;
  return resourceModel(ctx, path.objectId, path.resourceId)?.type;
}

/** For single-value formats: the path must address a resource or a resource instance (LwM2M-Core 1.1 §7.4). */
export function requireLeafPath(path: LwM2mPath, format: string): void {
  const level = pathLevel(path);
  if (level !== 'resource' && level !== 'resourceInstance') {
    throw fail(`${format} carries a single resource value only, not a ${level} path`, path);
  }
}

const NODE_LEVEL: Record<LwM2mNode['kind'], string> = {
  object: 'object',
  instance: 'instance',
  resource: 'resource',
  multiResource: 'resource',
  resourceInstance: 'resourceInstance',
};

/** Why `node` is not what `path` addresses, or undefined when it is (kind and id). */
function nodePathMismatch(node: LwM2mNode, path: LwM2mPath, allowInstanceUnderObject: boolean): string | undefined {
  const level = pathLevel(path);
  if (allowInstanceUnderObject && level === 'object' && node.kind === 'instance') return undefined;
  if (NODE_LEVEL[node.kind] !== level) return `cannot encode a ${node.kind} node for a ${level} path`;
  const expected = [path.objectId, path.instanceId, path.resourceId, path.resourceInstanceId][LEVEL_INDEX[level]];
  return node.id === expected ? undefined : `node id ${node.id} does not match the path`;
}

const LEVEL_INDEX: Record<string, number> = { object: 0, instance: 1, resource: 2, resourceInstance: 3 };

/**
 * Checks that `node` is what `path` addresses. With `allowInstanceUnderObject`, an object instance
 * may also be encoded for an object path (the payload of a Create, LwM2M-Core 1.1 §6.3, "Create").
 */
export function checkNodeAtPath(node: LwM2mNode, path: LwM2mPath, allowInstanceUnderObject = false): void {
  const why = nodePathMismatch(node, path, allowInstanceUnderObject);
  if (why) throw fail(why, path);
}

/** `supports` of the tree formats (TLV, LwM2M JSON): every path but the root, with a node matching it. */
export function isTreeNodeSupported(path: LwM2mPath, node?: LwM2mNode): boolean {
  if (pathLevel(path) === 'root') return false;
  return !node || nodePathMismatch(node, path, true) === undefined;
}

export function isLeafNodeSupported(path: LwM2mPath, node?: LwM2mNode): boolean {
  const level = pathLevel(path);
  if (level !== 'resource' && level !== 'resourceInstance') return false;
  if (!node) return true;
  return level === 'resource' ? node.kind === 'resource' : node.kind === 'resourceInstance';
}

// ---- leaf values --------------------------------------------------------------------------------

/** Type to encode with: the model's when known (the device decodes by it), else the node's own. */
export function encodeType(ctx: CodecContext, path: LwM2mPath, nodeType: ResourceType): ResourceType {
  return modelType(ctx, path) ?? nodeType;
}

/** The node a single-value format decodes to: a resource or a resource instance, by path level. */
export function leafNode(path: LwM2mPath, type: ResourceType, value: LwM2mValue): SingleResource | ResourceInstance {
  return pathLevel(path) === 'resource'
    ? single(path.resourceId as number, type, value)
    : resourceInstance(path.resourceInstanceId as number, type, value);
}

/** The one value a single-value format can carry; a multiple-instance resource is refused. */
export function leafOf(node: LwM2mNode, path: LwM2mPath, format: string): SingleResource | ResourceInstance {
  if (node.kind !== 'resource' && node.kind !== 'resourceInstance')
    throw fail(`${format} cannot carry a multiple-instance resource`, path);
  return node;
}
