/**
 * Observe and its cancellation (LwM2M-Core 1.2 §6.4.1-§6.4.2, RFC 7641):
 *   Observe                  GET   /{path}  Observe: 0, Accept
 *   Cancel (active)          GET   /{path}  Observe: 1, same token (RFC 7641 §3.6)
 *   Cancel (passive)         forget the token; the next notification is answered with RST
 *   Observe-Composite        FETCH /        Observe: 0, body: the paths
 *   Cancel Observe-Composite FETCH /        Observe: 1, same token and body
 * The observation is stored before the request leaves, so that a notification racing the
 * response can already be matched by token.
 */
import { CoapEndpoint } from '../../coap/endpoint';
import { Method, Opt } from '../../coap/message';
import { contentFormat, observeValue, uintOption } from '../../coap/options';
import { OBSERVE_DEREGISTER, OBSERVE_REGISTER } from '../../coap/observe';
import { formatPath, parsePath, type LwM2mPath } from '../../lwm2m/path';
import type { Observation } from '../observation/observation-store';
import type { ServerEvents } from '../events';
import type { Registration } from '../registration/registration';
import { codecContext, send, targetOptions, type DownlinkContext, type RequestOptions } from './context';
import { decodeContent } from './decode-response';
import { negotiateFormat } from './format-negotiation';
import { baseResult, type OperationResult } from './result';

export async function observe(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  opts: RequestOptions = {},
): Promise<OperationResult> {
  return negotiateFormat(ctx, reg, 'single', 'Observe', opts, (accept) => observeAs(ctx, reg, path, accept, opts));
}

function observeAs(
  ctx: DownlinkContext,
  reg: Registration,
  path: LwM2mPath,
  accept: number,
  opts: RequestOptions,
): Promise<OperationResult> {
  const obs = newObservation(reg, 'single', [path], accept, opts.origin);
  const options = [
    ...targetOptions(reg, path),
    uintOption(Opt.OBSERVE, OBSERVE_REGISTER),
    uintOption(Opt.ACCEPT, accept),
  ];
  return start(ctx, reg, obs, Method.GET, options, undefined, opts);
}

export async function observeComposite(
  ctx: DownlinkContext,
  reg: Registration,
  paths: readonly LwM2mPath[],
  opts: RequestOptions = {},
): Promise<OperationResult> {
  return negotiateFormat(ctx, reg, 'composite', 'Observe-Composite', opts, (format) =>
    observeCompositeAs(ctx, reg, paths, format, opts),
  );
}

function observeCompositeAs(
  ctx: DownlinkContext,
  reg: Registration,
  paths: readonly LwM2mPath[],
  format: number,
  opts: RequestOptions,
): Promise<OperationResult> {
  const obs = newObservation(reg, 'composite', paths, format, opts.origin);
  const options = [
    ...targetOptions(reg, {}),
    uintOption(Opt.OBSERVE, OBSERVE_REGISTER),
    uintOption(Opt.CONTENT_FORMAT, format),
    uintOption(Opt.ACCEPT, format),
  ];
  return start(ctx, reg, obs, Method.FETCH, options, ctx.codecs.compositeCodec(format).encodePaths(paths), opts);
}

/** Cancels one observation. Active cancel sends Observe=1 with the same token; passive only forgets it. */
export async function cancelObservation(
  ctx: DownlinkContext,
  events: ServerEvents,
  reg: Registration,
  obs: Observation,
  mode: 'active' | 'passive',
  opts: RequestOptions = {},
): Promise<OperationResult | undefined> {
  await ctx.observations.remove(obs.token);
  ctx.forgetObservation(obs.token);
  events.emit({ type: 'observation-ended', observation: obs, reason: 'cancelled' });
  if (mode === 'passive') return undefined;
  const token = Buffer.from(obs.token, 'hex');
  const paths = obs.paths.map((p) => parsePath(p));
  const format = obs.contentFormat ?? ctx.formats.single(reg);
  if (obs.kind === 'single') {
    const options = [
      ...targetOptions(reg, paths[0] ?? {}),
      uintOption(Opt.OBSERVE, OBSERVE_DEREGISTER),
      uintOption(Opt.ACCEPT, format),
    ];
    const res = await send(ctx, reg, Method.GET, options, undefined, { ...opts, token });
    return baseResult(res.code, res.payload);
  }
  const options = [
    ...targetOptions(reg, {}),
    uintOption(Opt.OBSERVE, OBSERVE_DEREGISTER),
    uintOption(Opt.CONTENT_FORMAT, format),
    uintOption(Opt.ACCEPT, format),
  ];
  const res = await send(ctx, reg, Method.FETCH, options, ctx.codecs.compositeCodec(format).encodePaths(paths), {
    ...opts,
    token,
  });
  return baseResult(res.code, res.payload);
}

function newObservation(
  reg: Registration,
  kind: 'single' | 'composite',
  paths: readonly LwM2mPath[],
  format: number,
  origin?: 'rpc',
): Observation {
  return {
    token: CoapEndpoint.newToken().toString('hex'),
    registrationId: reg.id,
    endpoint: reg.endpoint,
    kind,
    paths: paths.map(formatPath),
    contentFormat: format,
    createdAt: Date.now(),
    ...(origin !== undefined ? { origin } : {}),
  };
}

async function start(
  ctx: DownlinkContext,
  reg: Registration,
  obs: Observation,
  method: number,
  options: ReturnType<typeof targetOptions>,
  payload: Buffer | undefined,
  opts: RequestOptions,
): Promise<OperationResult> {
  await ctx.observations.add(obs);
  let res;
  try {
    res = await send(ctx, reg, method, options, payload, { ...opts, token: Buffer.from(obs.token, 'hex') });
  } catch (err) {
    await ctx.observations.remove(obs.token);
    throw err;
  }
  const base = baseResult(res.code, res.payload);
  // RFC 7641 §3.2: a 2.xx response without Observe means the resource is not observable.
  const seq = base.success ? observeValue(res) : undefined;
  const established = seq !== undefined;
  if (established) ctx.seedObservation(obs.token, seq);
  else {
    await ctx.observations.remove(obs.token);
    ctx.forgetObservation(obs.token);
  }
  if (!base.success) return base;
  const paths = obs.paths.map((p) => parsePath(p));
  const format = contentFormat(res) ?? (obs.kind === 'composite' ? obs.contentFormat : undefined);
  const decoded = decodeContent(ctx.codecs, format, res.payload, obs.kind, paths, codecContext(ctx, reg));
  const node = obs.kind === 'single' ? decoded.nodes.get(obs.paths[0] ?? '/') : undefined;
  return {
    ...base,
    ...(node ? { node } : {}),
    ...(obs.kind === 'composite' ? { nodes: decoded.nodes } : {}),
    ...(established ? { observation: obs } : {}),
    ...(format !== undefined ? { contentFormat: format } : {}),
  };
}
