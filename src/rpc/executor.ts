/**
 * Runs one validated RPC request against the LwM2M server and makes its response record:
 * method → operation (LwM2M-Core 1.2 §6.3, §6.4), `id`/`key` → path, typed JSON → nodes, and the
 * operation's result → `value`/`types` keyed by path, `links`, `count`, `location`.
 * Never throws: every failure becomes a response with a result name and an `error`.
 */
import type { RpcResponseRecord } from '../contract/rpc-records';
import { nodeResourceType, nodeToJson, type JsonValue } from '../contract/values';
import { BridgeError } from '../common/errors';
import type { ObjectModelLookup } from '../lwm2m/model/types';
import type { LwM2mNode, ObjectInstance } from '../lwm2m/node';
import { formatPath, pathLevel, type LwM2mPath } from '../lwm2m/path';
import type { ResourceType } from '../lwm2m/value';
import type { CompiledProfile } from '../profile/compile';
import type { RequestOptions } from '../server/downlink/context';
import type { OperationResult } from '../server/downlink/result';
import type { NodesByPath } from '../server/events';
import type { LwM2mServer } from '../server/lwm2m-server';
import { objectVersions, type Registration } from '../server/registration/registration';
import { jsonToInstance, jsonToNode, RpcValueError, type NodeContext } from './json-to-node';
import type { RpcRequest } from './request';
import { resolveName, resolveTarget, resolveTargets, type TargetContext } from './targets';
import { formatRefusal } from './version-formats';
import { errorMessage } from '../common/error-message';

export interface RpcExecutorDeps {
  readonly server: LwM2mServer;
  readonly model: ObjectModelLookup;
  /** The device's profile (for `key` params), if it has one. */
  readonly profileFor: (endpoint: string) => Promise<CompiledProfile | undefined>;
  readonly now?: () => number;
}

type Body = Omit<RpcResponseRecord, 'id' | 'endpoint' | 'method' | 'ts'>;

/** The response record of a request that did not run (or failed before reaching the device). */
export function rpcResponse(
  req: { readonly id: string; readonly endpoint: string; readonly method: string },
  body: Body,
  now: number,
): RpcResponseRecord {
  return { id: req.id, endpoint: req.endpoint, method: req.method, ...body, ts: now };
}

/** A thrown error as a response body: its kind decides the result name. */
export function errorBody(err: unknown): Body {
  const message = errorMessage(err);
  if (!(err instanceof BridgeError)) return { result: 'INTERNAL_SERVER_ERROR', error: message };
  switch (err.code) {
    case 'LWM2M_NOT_REGISTERED':
      return { result: 'NOT_REGISTERED', error: message };
    case 'COAP_TIMEOUT':
      return { result: 'TIMEOUT', error: message };
    case 'COAP_CANCELLED':
      return { result: 'CANCELLED', error: message };
    case 'LWM2M_BAD_REQUEST':
    case 'LWM2M_PATH_INVALID':
    case 'LWM2M_CODEC':
    case 'LWM2M_UNSUPPORTED_FORMAT':
    case 'LWM2M_MODEL':
      return { result: 'BAD_REQUEST', error: message };
    default:
      return { result: 'INTERNAL_SERVER_ERROR', error: message };
  }
}

function valuesBody(nodes: ReadonlyMap<string, LwM2mNode | null>): Pick<Body, 'value' | 'types'> {
  const value: Record<string, JsonValue | null> = {};
  const types: Record<string, ResourceType> = {};
  for (const [path, node] of nodes) {
    value[path] = node === null ? null : nodeToJson(node);
    const t = node === null ? undefined : nodeResourceType(node);
    if (t !== undefined) types[path] = t;
  }
  return Object.keys(types).length > 0 ? { value, types } : { value };
}

function resultBody(r: OperationResult, path?: LwM2mPath): Body {
  const base: Body = { result: r.result, ...(r.error !== undefined ? { error: r.error } : {}) };
  if (!r.success) return base;
  if (r.node !== undefined && path !== undefined)
    return { ...base, ...valuesBody(new Map([[formatPath(path), r.node]])) };
  if (r.nodes !== undefined) return { ...base, ...valuesBody(r.nodes) };
  if (r.links !== undefined) return { ...base, links: r.links.map((l) => linkJson(l.uri, l.params)) };
  if (r.location !== undefined) return { ...base, location: r.location };
  return base;
}

function linkJson(
  uri: string,
  params: Readonly<Record<string, string | true>>,
): { path: string; attributes?: Record<string, string | number> } {
  const attributes: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params))
    attributes[k] = v === true ? '' : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  return Object.keys(attributes).length > 0 ? { path: uri, attributes } : { path: uri };
}

export class RpcExecutor {
  private readonly now: () => number;

  constructor(private readonly deps: RpcExecutorDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Runs `req` on the registered device; `timeoutMs` bounds the CoAP exchange. */
  async execute(req: RpcRequest, timeoutMs: number): Promise<RpcResponseRecord> {
    let body: Body;
    try {
      const reg = await this.deps.server.registration(req.endpoint);
      const refusal = formatRefusal(reg, req.format);
      if (refusal !== undefined) return rpcResponse(req, { result: 'BAD_REQUEST', error: refusal }, this.now());
      const profile = await this.deps.profileFor(req.endpoint);
      body = await this.run(
        req,
        { registration: reg, profile },
        { timeoutMs, ...(req.format !== undefined ? { format: req.format } : {}) },
      );
    } catch (err) {
      body = errorBody(err);
    }
    return rpcResponse(req, body, this.now());
  }

  private nodeContext(reg: Registration): NodeContext {
    return { model: this.deps.model, versions: objectVersions(reg) };
  }

  private async run(req: RpcRequest, t: TargetContext, o: RequestOptions): Promise<Body> {
    const s = this.deps.server;
    const ep = req.endpoint;
    const p = req.params;
    switch (req.method) {
      case 'Read': {
        const path = resolveTarget(t, p);
        return resultBody(await s.read(ep, path, o), path);
      }
      case 'Observe': {
        const path = resolveTarget(t, p);
        return resultBody(await s.observe(ep, path, { ...o, origin: 'rpc' }), path);
      }
      case 'Discover':
        return resultBody(await s.discover(ep, resolveTarget(t, p), o));
      case 'ReadComposite':
        return resultBody(await s.readComposite(ep, resolveTargets(t, p), o));
      case 'ObserveComposite':
        return resultBody(await s.observeComposite(ep, resolveTargets(t, p), { ...o, origin: 'rpc' }));
      case 'DiscoverAll':
        return { result: 'CONTENT', links: discoverAll(t.registration) };
      case 'WriteReplace':
      case 'WriteUpdate': {
        const path = resolveTarget(t, p);
        const node = jsonToNode(this.nodeContext(t.registration), path, p.value);
        return resultBody(await s.write(ep, path, node, req.method === 'WriteReplace' ? 'replace' : 'update', o));
      }
      case 'WriteComposite':
        return resultBody(await s.writeComposite(ep, this.compositeNodes(t, p.nodes ?? {}), o));
      case 'WriteAttributes':
        return resultBody(await s.writeAttributes(ep, resolveTarget(t, p), p.attributes ?? {}, o));
      case 'Execute': {
        const args = p.value === undefined ? undefined : String(p.value);
        return resultBody(await s.execute(ep, resolveTarget(t, p), args, o));
      }
      case 'Create': {
        const path = resolveTarget(t, p);
        return resultBody(
          await s.create(ep, path.objectId as number, this.createInstances(t, path, p.value, p.nodes), o),
        );
      }
      case 'Delete':
        return resultBody(await s.delete(ep, resolveTarget(t, p), o));
      case 'ObserveCancel':
        return cancelled(
          await s.cancelObservations(ep, { kind: 'single', paths: [formatPath(resolveTarget(t, p))] }, 'passive', o),
        );
      case 'ObserveCompositeCancel':
        return cancelled(
          await s.cancelObservations(
            ep,
            { kind: 'composite', paths: resolveTargets(t, p).map(formatPath) },
            'passive',
            o,
          ),
        );
      case 'ObserveCancelAll': {
        const single = await s.cancelObservations(ep, { kind: 'single' }, 'passive', o);
        const composite = await s.cancelObservations(ep, { kind: 'composite' }, 'passive', o);
        return { result: 'CONTENT', count: single + composite };
      }
      case 'ObserveReadAll': {
        const all = await s.listObservations(ep);
        return {
          result: 'CONTENT',
          observations: all.map((x) => ({ token: x.token, kind: x.kind, paths: [...x.paths] })),
        };
      }
    }
  }

  private compositeNodes(t: TargetContext, nodes: Readonly<Record<string, unknown>>): NodesByPath {
    const ctx = this.nodeContext(t.registration);
    const out: NodesByPath = new Map();
    for (const [name, value] of Object.entries(nodes)) {
      const path = resolveName(t, name, `params.nodes.${name}`);
      const level = pathLevel(path);
      if (level !== 'resource' && level !== 'resourceInstance')
        throw new RpcValueError(`params.nodes.${name}: WriteComposite writes resources and resource instances`);
      out.set(formatPath(path), jsonToNode(ctx, path, value));
    }
    return out;
  }

  private createInstances(
    t: TargetContext,
    path: LwM2mPath,
    value: unknown,
    nodes: Readonly<Record<string, unknown>> | undefined,
  ): ObjectInstance[] {
    const ctx = this.nodeContext(t.registration);
    const objectId = path.objectId as number;
    const level = pathLevel(path);
    if (level === 'instance' && value !== undefined)
      return [jsonToInstance(ctx, objectId, path.instanceId as number, value)];
    if (level === 'object' && nodes !== undefined) {
      return Object.entries(nodes).map(([iid, v]) => {
        if (!/^\d{1,5}$/.test(iid))
          throw new RpcValueError(`params.nodes.${iid}: Create takes instances by instance id`);
        return jsonToInstance(ctx, objectId, Number(iid), v);
      });
    }
    throw new RpcValueError(
      'params.id: Create takes "id": "/<object>/<new instance>" with "value", or "id": "/<object>" with "nodes" by instance id',
    );
  }
}

function cancelled(count: number): Body {
  return count > 0 ? { result: 'CONTENT', count } : { result: 'NOT_FOUND', count: 0, error: 'no such observation' };
}

/** DiscoverAll answers from the registration (as ThingsBoard does): the objects and instances the device announced. */
function discoverAll(reg: Registration): { path: string; attributes?: Record<string, string | number> }[] {
  const links: { path: string; attributes?: Record<string, string | number> }[] = [];
  for (const o of reg.objects) {
    links.push(
      o.version !== undefined ? { path: `/${o.objectId}`, attributes: { ver: o.version } } : { path: `/${o.objectId}` },
    );
    for (const i of o.instances) links.push({ path: `/${o.objectId}/${i}` });
  }
  return links;
}
