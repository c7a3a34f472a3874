/**
 * The Registration Interface (LwM2M-Core 1.2 §6.2, Transport 1.2 §6.2):
 *   Register    POST   /rd?ep=..&lt=..&lwm2m=..&b=..[&sms=..][&Q]   payload: object links → 2.01 Location-Path rd/{id}
 *   Update      POST   /rd/{id}[?lt=..&b=..&sms=..]                 payload: object links (optional) → 2.04
 *   De-register DELETE /rd/{id}                                      → 2.02
 * Unknown locations get 4.04, bad parameters and payloads 4.00 with a reason.
 */
import { randomBytes } from 'node:crypto';
import { LinkFormatError } from '../../common/errors';
import { contentFormat } from '../../coap/options';
import { Code, Method, Opt, type CoapOption } from '../../coap/message';
import type { InboundRequest, ResponseSpec } from '../../coap/endpoint';
import { parseObjectLinks } from '../../lwm2m/object-links';
import type { RegistrationStore } from './registration-store';
import type { ServerEvents } from '../events';
import type { ObservationLifecycle } from '../observation/observation-lifecycle';
import { BadRequest, parseRegisterParams, parseUpdateParams } from './register-params';
import type { ObjectLinkEntry, Registration } from './registration';
import { actRefusal, registerRefusal, type SecurityMode } from './access';

const LINK_FORMAT = 40;

export interface RegistrationHandlerDeps {
  readonly store: RegistrationStore;
  readonly events: ServerEvents;
  readonly observations: ObservationLifecycle;
  readonly now?: () => number;
  /** Throws a retriable error to refuse new registrations while a dependency is unavailable. */
  readonly admit?: () => void;
  /** The security mode an endpoint is provisioned with (undefined: not provisioned, NoSec allowed). */
  readonly provisionedMode?: (endpoint: string) => Promise<SecurityMode | undefined>;
}

export class RegistrationHandler {
  private readonly now: () => number;

  constructor(private readonly deps: RegistrationHandlerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Handles a request whose first Uri-Path segment is "rd". */
  async handle(req: InboundRequest, path: readonly string[]): Promise<ResponseSpec> {
    try {
      const method = req.message.code;
      if (path.length === 1 && method === Method.POST) return await this.register(req);
      if (path.length === 2 && method === Method.POST) return await this.update(req, path[1] as string);
      if (path.length === 2 && method === Method.DELETE) return await this.deregister(req, path[1] as string);
      if (path.length > 2) return { code: Code.NOT_FOUND, payload: Buffer.from('unknown registration location') };
      return { code: Code.METHOD_NOT_ALLOWED };
    } catch (err) {
      if (err instanceof BadRequest || err instanceof LinkFormatError) {
        return { code: Code.BAD_REQUEST, payload: Buffer.from(err.message) };
      }
      throw err;
    }
  }

  private async register(req: InboundRequest): Promise<ResponseSpec> {
    const msg = req.message;
    const params = parseRegisterParams(queryOf(msg.options));
    const refusal = registerRefusal(
      params.endpoint,
      req.identity,
      req.identity === undefined ? await this.deps.provisionedMode?.(params.endpoint) : undefined,
    );
    if (refusal !== undefined) return forbidden(refusal);
    this.deps.admit?.();
    const links = parseLinks(msg.payload, contentFormat(msg));
    const now = this.now();
    const reg: Registration = {
      id: newRegistrationId(),
      endpoint: params.endpoint,
      address: req.peer.address,
      port: req.peer.port,
      lifetime: params.lifetime,
      lwm2mVersion: params.lwm2mVersion,
      binding: params.binding,
      queueMode: params.queueMode,
      ...(params.smsNumber !== undefined ? { smsNumber: params.smsNumber } : {}),
      rootPath: links.rootPath,
      ...(links.supportedContentFormats ? { supportedContentFormats: links.supportedContentFormats } : {}),
      objects: links.objects,
      objectLinks: links.raw,
      registeredAt: now,
      lastUpdate: now,
      expiresAt: now + params.lifetime * 1000,
      ...(req.identity !== undefined ? { security: { mode: req.identity.mode, name: req.identity.name } } : {}),
    };
    const { replaced } = await this.deps.store.register(reg);
    // A new Register for the same endpoint replaces the old session and its observations.
    if (replaced) await this.deps.observations.endAll(replaced, 'replaced');
    this.deps.events.emit(
      replaced ? { type: 'registered', registration: reg, replaced } : { type: 'registered', registration: reg },
    );
    const location: CoapOption[] = [
      { number: Opt.LOCATION_PATH, value: Buffer.from('rd') },
      { number: Opt.LOCATION_PATH, value: Buffer.from(reg.id) },
    ];
    return { code: Code.CREATED, options: location };
  }

  private async update(req: InboundRequest, id: string): Promise<ResponseSpec> {
    const msg = req.message;
    const params = parseUpdateParams(queryOf(msg.options));
    const refusal = await this.refusal(req, id);
    if (refusal !== undefined) return refusal;
    const links = msg.payload.length > 0 ? parseLinks(msg.payload, contentFormat(msg)) : undefined;
    const changes = {
      ...params,
      // NAT rebinding: the registration follows the address the Update came from.
      address: req.peer.address,
      port: req.peer.port,
      ...(links ? { objects: links.objects, objectLinks: links.raw, rootPath: links.rootPath } : {}),
      ...(links?.supportedContentFormats ? { supportedContentFormats: links.supportedContentFormats } : {}),
    };
    const result = await this.deps.store.update(id, changes, this.now());
    if (result === undefined) return { code: Code.NOT_FOUND, payload: Buffer.from(`no registration ${id}`) };
    const addressChanged = result.before.address !== result.after.address || result.before.port !== result.after.port;
    this.deps.events.emit({ type: 'updated', before: result.before, after: result.after, addressChanged });
    return { code: Code.CHANGED };
  }

  private async deregister(req: InboundRequest, id: string): Promise<ResponseSpec> {
    const refusal = await this.refusal(req, id);
    if (refusal !== undefined) return refusal;
    const reg = await this.deps.store.deregister(id);
    if (reg === undefined) return { code: Code.NOT_FOUND, payload: Buffer.from(`no registration ${id}`) };
    await this.deps.observations.endAll(reg, 'deregistered');
    this.deps.events.emit({ type: 'deregistered', registration: reg });
    return { code: Code.DELETED };
  }

  /** 4.03 when the requester may not act on registration `id` (an unknown id is left to 4.04). */
  private async refusal(req: InboundRequest, id: string): Promise<ResponseSpec | undefined> {
    const reg = await this.deps.store.getById(id);
    const reason = reg === undefined ? undefined : actRefusal(reg, req.identity);
    return reason === undefined ? undefined : forbidden(reason);
  }
}

function forbidden(reason: string): ResponseSpec {
  return { code: Code.FORBIDDEN, payload: Buffer.from(reason) };
}

function queryOf(options: readonly CoapOption[]): string[] {
  const out: string[] = [];
  for (const o of options) if (o.number === Opt.URI_QUERY) out.push(o.value.toString('utf8'));
  return out;
}

interface ParsedLinks {
  readonly raw: string;
  readonly rootPath: string;
  readonly supportedContentFormats?: readonly number[];
  readonly objects: readonly ObjectLinkEntry[];
}

/**
 * Parsed object lists by payload. Devices of a fleet announce the same few lists, so identical
 * payloads share one parsed (immutable) result: about 0.5 KB less heap per registered device,
 * and no parsing. Bounded; the oldest entry goes first.
 */
const LINKS_CACHE_MAX = 1024;
const linksCache = new Map<string, ParsedLinks>();

function parseLinks(payload: Buffer, format: number | undefined): ParsedLinks {
  // LwM2M-Core 1.2 §6.2.1: the object list is CoRE Link Format (RFC 6690); other formats are refused.
  if (format !== undefined && format !== LINK_FORMAT)
    throw new BadRequest(`object links must be application/link-format (40), got content format ${format}`);
  const raw = payload.toString('utf8');
  const cached = linksCache.get(raw);
  if (cached !== undefined) return cached;
  const parsed = parseLinkString(raw);
  if (linksCache.size >= LINKS_CACHE_MAX) linksCache.delete(linksCache.keys().next().value as string);
  linksCache.set(raw, parsed);
  return parsed;
}

function parseLinkString(raw: string): ParsedLinks {
  if (raw.trim() === '') return { raw, rootPath: '/', objects: [] };
  const parsed = parseObjectLinks(raw);
  const objects: ObjectLinkEntry[] = [];
  for (const [objectId, o] of parsed.objects) {
    objects.push(
      o.version !== undefined
        ? { objectId, version: o.version, instances: o.instances }
        : { objectId, instances: o.instances },
    );
  }
  return parsed.supportedContentFormats
    ? { raw, rootPath: parsed.rootPath, supportedContentFormats: parsed.supportedContentFormats, objects }
    : { raw, rootPath: parsed.rootPath, objects };
}

let idPool = Buffer.alloc(0);
let idPos = 0;
/**
 * Registration ids are random (not guessable, unique across instances without coordination):
 * 8 CSPRNG bytes, drawn from a pooled buffer because one randomBytes() call per Register cost
 * about 15% of the registration path.
 */
function newRegistrationId(): string {
  if (idPos + 8 > idPool.length) {
    idPool = randomBytes(8 * 512);
    idPos = 0;
  }
  const id = idPool.toString('base64url', idPos, idPos + 8);
  idPos += 8;
  return id;
}
