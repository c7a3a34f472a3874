/**
 * Operations that change the device (LwM2M-Core 1.2 §6.3.3-§6.3.7, §6.3.9; Transport §6.3):
 *   Write (replace)        PUT    /{path}           Content-Format + body
 *   Write (partial update) POST   /{oid}/{iid}      Content-Format + body
 *   Write-Attributes       PUT    /{path}?pmin=..   no body
 *   Execute                POST   /{oid}/{iid}/{rid} optional text/plain arguments
 *   Create                 POST   /{oid}            Content-Format + the new instance(s) → 2.01
 *   Delete                 DELETE /{oid}/{iid}
 *   Write-Composite        iPATCH /                 Content-Format: SenML/LwM2M CBOR
 */
import { Method, Opt } from '../../coap/message';
import { getOptions, uintOption } from '../../coap/options';
import { BridgeError } from '../../common/errors';
import { attributesToQuery, type NotificationAttributes } from '../../lwm2m/attributes';
import { ContentFormat } from '../../lwm2m/codec/types';
import type { LwM2mNode, ObjectInstance } from '../../lwm2m/node';
import { object } from '../../lwm2m/node';
import { pathLevel, type LwM2mPath } from '../../lwm2m/path';
import type { NodesByPath } from '../events';
import type { Registration } from '../registration/registration';
import { codecContext, send, targetOptions, type DownlinkContext, type RequestOptions } from './context';
import { negotiateFormat } from './format-negotiation';
import { baseResult, type OperationResult } from './result';

export class OperationError extends BridgeError {
  constructor(message: string) {
    super('LWM2M_BAD_REQUEST', message);
  }
}

export type WriteMode = 'replace' | 'update';

export async function write(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  node: LwM2mNode,
  mode: WriteMode,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  const level = pathLevel(path);
  if (level === 'root' || level === 'object')
    throw new OperationError('Write targets an object instance, a resource or a resource instance');
  // LwM2M-Core 1.2 §6.3.3: replace is PUT, partial update is POST; on a single value both are a PUT.
  const method =
    mode === 'replace' || node.kind === 'resource' || node.kind === 'resourceInstance' ? Method.PUT : Method.POST;
  return negotiateFormat(ctx, reg, 'single', 'Write', opts, async (format) => {
    const payload = ctx.codecs.encodeNode(format, node, path, codecContext(ctx, reg));
    const options = [...targetOptions(reg, path), uintOption(Opt.CONTENT_FORMAT, format)];
    const res = await send(ctx, reg, method, options, payload, opts);
    return baseResult(res.code, res.payload);
  });
}

export async function writeAttributes(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  attributes: NotificationAttributes,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  if (pathLevel(path) === 'root')
    throw new OperationError('Write-Attributes needs an object, instance or resource path');
  const res = await send(
    ctx,
    reg,
    Method.PUT,
    targetOptions(reg, path, attributesToQuery(attributes)),
    undefined,
    opts,
  );
  return baseResult(res.code, res.payload);
}

/** Execute arguments (LwM2M-Core 1.2 §5.4.5): `digit ['=' "'" text "'"]` separated by commas. */
const EXECUTE_ARGS = /^\d(='[^']*')?(,\d(='[^']*')?)*$/;

export async function execute(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  args: string | undefined,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  if (pathLevel(path) !== 'resource')
    throw new OperationError('Execute targets a resource (/{object}/{instance}/{resource})');
  if (args !== undefined && args !== '' && !EXECUTE_ARGS.test(args)) {
    throw new OperationError(`execute arguments "${args}" do not match digit['='"'"text"'"][,...] (LwM2M-Core §5.4.5)`);
  }
  const payload = args ? Buffer.from(args, 'utf8') : undefined;
  const options = payload
    ? [...targetOptions(reg, path), uintOption(Opt.CONTENT_FORMAT, ContentFormat.TEXT)]
    : targetOptions(reg, path);
  const res = await send(ctx, reg, Method.POST, options, payload, opts);
  return baseResult(res.code, res.payload);
}

export async function create(
  ctx: DownlinkContext,
  reg: Registration,
  objectId: number,
  instances: readonly ObjectInstance[],
  opts: RequestOptions = {},
): Promise<OperationResult> {
  if (instances.length === 0) throw new OperationError('Create needs at least one object instance');
  const path = { objectId };
  return negotiateFormat(ctx, reg, 'single', 'Create', opts, async (format) => {
    const payload = ctx.codecs.encodeNode(format, object(objectId, instances), path, codecContext(ctx, reg));
    const options = [...targetOptions(reg, path), uintOption(Opt.CONTENT_FORMAT, format)];
    const res = await send(ctx, reg, Method.POST, options, payload, opts);
    const base = baseResult(res.code, res.payload);
    const loc = getOptions(res, Opt.LOCATION_PATH).map((b) => b.toString('utf8'));
    return loc.length > 0 ? { ...base, location: `/${loc.join('/')}` } : base;
  });
}

export async function deleteInstance(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  // LwM2M-Core 1.2 §6.3.7: Delete targets an object instance (1.1+ also resource instances).
  const level = pathLevel(path);
  if (level !== 'instance' && level !== 'resourceInstance')
    throw new OperationError('Delete targets an object instance or a resource instance');
  const res = await send(ctx, reg, Method.DELETE, targetOptions(reg, path), undefined, opts);
  return baseResult(res.code, res.payload);
}

export async function writeComposite(
  ctx: DownlinkContext,
  reg: Registration,
  nodes: NodesByPath,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  if (nodes.size === 0) throw new OperationError('Write-Composite needs at least one path');
  return negotiateFormat(ctx, reg, 'composite', 'Write-Composite', opts, async (format) => {
    const payload = ctx.codecs.compositeCodec(format).encodeNodes(nodes, codecContext(ctx, reg));
    const options = [...targetOptions(reg, {}), uintOption(Opt.CONTENT_FORMAT, format)];
    const res = await send(ctx, reg, Method.IPATCH, options, payload, opts);
    return baseResult(res.code, res.payload);
  });
}
