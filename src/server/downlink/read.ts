/**
 * Read, Discover and Read-Composite (LwM2M-Core 1.2 §6.3.1, §6.3.2, §6.3.8; Transport §6.3):
 *   Read           GET   /{path}            Accept: format
 *   Discover       GET   /{path}            Accept: application/link-format (40)
 *   Read-Composite FETCH /                  Content-Format + Accept: SenML/LwM2M CBOR; body: the paths
 */
import { Method, Opt } from '../../coap/message';
import { contentFormat, uintOption } from '../../coap/options';
import { ContentFormat } from '../../lwm2m/codec/types';
import { parseLinkFormat } from '../../lwm2m/link-format';
import { formatPath, type LwM2mPath } from '../../lwm2m/path';
import type { Registration } from '../registration/registration';
import { codecContext, send, targetOptions, type DownlinkContext, type RequestOptions } from './context';
import { decodeContent } from './decode-response';
import { negotiateFormat } from './format-negotiation';
import { baseResult, type OperationResult } from './result';

export async function read(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  return negotiateFormat(ctx, reg, 'single', 'Read', opts, (accept) => readAs(ctx, reg, path, accept, opts));
}

async function readAs(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  accept: number,
  opts: RequestOptions,
): Promise<OperationResult> {
  const res = await send(
    ctx,
    reg,
    Method.GET,
    [...targetOptions(reg, path), uintOption(Opt.ACCEPT, accept)],
    undefined,
    opts,
  );
  const base = baseResult(res.code, res.payload);
  if (!base.success) return base;
  const format = contentFormat(res);
  const decoded = decodeContent(ctx.codecs, format, res.payload, 'single', [path], codecContext(ctx, reg));
  const node = decoded.nodes.get(formatPath(path));
  return { ...base, ...(node ? { node } : {}), ...(format !== undefined ? { contentFormat: format } : {}) };
}

export async function discover(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  const res = await send(
    ctx,
    reg,
    Method.GET,
    [...targetOptions(reg, path), uintOption(Opt.ACCEPT, ContentFormat.LINK)],
    undefined,
    opts,
  );
  const base = baseResult(res.code, res.payload);
  if (!base.success) return base;
  return { ...base, links: parseLinkFormat(res.payload.toString('utf8')), contentFormat: ContentFormat.LINK };
}

export async function readComposite(
  ctx: DownlinkContext,
  reg: Registration,
  paths: readonly LwM2mPath[],
  opts: RequestOptions = {},
): Promise<OperationResult> {
  return negotiateFormat(ctx, reg, 'composite', 'Read-Composite', opts, (format) =>
    readCompositeAs(ctx, reg, paths, format, opts),
  );
}

async function readCompositeAs(
  ctx: DownlinkContext,
  reg: Registration,
  paths: readonly LwM2mPath[],
  format: number,
  opts: RequestOptions,
): Promise<OperationResult> {
  const codec = ctx.codecs.compositeCodec(format);
  const options = [...targetOptions(reg, {}), uintOption(Opt.CONTENT_FORMAT, format), uintOption(Opt.ACCEPT, format)];
  const res = await send(ctx, reg, Method.FETCH, options, codec.encodePaths(paths), opts);
  const base = baseResult(res.code, res.payload);
  if (!base.success) return base;
  const decoded = decodeContent(
    ctx.codecs,
    contentFormat(res) ?? format,
    res.payload,
    'composite',
    paths,
    codecContext(ctx, reg),
  );
  return { ...base, nodes: decoded.nodes, contentFormat: contentFormat(res) ?? format };
}
