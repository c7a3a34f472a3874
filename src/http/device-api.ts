/**
 * The device and RPC part of the HTTP API (README, "HTTP API"):
 *   GET  /devices                 list, with filters: endpoint (glob), queueMode, lwm2mVersion
 *   GET  /devices/{endpoint}      registration, objects, observations, held RPC requests
 *   POST /devices/{endpoint}/rpc  {method, params, timeoutMs?, expiresAt?, id?} → the response record
 * Open in embedded mode; otherwise every request needs `Authorization: Bearer <HTTP_API_TOKEN>`.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { compilePattern } from '../common/pattern';
import { isRejection, parseRpcRequest } from '../rpc/request';
import type { RpcService } from '../rpc/rpc-service';
import type { LwM2mServer } from '../server/lwm2m-server';
import type { Registration } from '../server/registration/registration';
import type { RegistrationStore } from '../server/registration/registration-store';
import { errorMessage } from '../common/error-message';

export interface DeviceApiDeps {
  readonly registrations: RegistrationStore;
  readonly server?: LwM2mServer;
  readonly rpc?: RpcService;
  /** undefined: open (embedded mode); '' : closed (token required but not configured). */
  readonly token?: string;
}

export interface ApiReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SCAN = 100_000;

export function authorize(deps: DeviceApiDeps, req: IncomingMessage): ApiReply | undefined {
  if (deps.token === undefined) return undefined;
  if (deps.token === '')
    return {
      status: 401,
      body: { error: 'the device API needs a bearer token outside embedded mode: set HTTP_API_TOKEN' },
    };
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(deps.token);
  if (given.length !== want.length || !timingSafeEqual(given, want))
    return { status: 401, body: { error: 'missing or wrong bearer token' } };
  return undefined;
}

function matches(reg: Registration, q: URLSearchParams, pattern: RegExp | undefined): boolean {
  if (pattern && !pattern.test(reg.endpoint)) return false;
  const queueMode = q.get('queueMode');
  if (queueMode !== null && String(reg.queueMode) !== queueMode) return false;
  const version = q.get('lwm2mVersion');
  return version === null || reg.lwm2mVersion === version;
}

export async function listDevices(
  deps: DeviceApiDeps,
  q: URLSearchParams,
  offset: number,
  limit: number,
): Promise<ApiReply> {
  const filtered = q.has('endpoint') || q.has('queueMode') || q.has('lwm2mVersion');
  if (!filtered) {
    const [total, items] = await Promise.all([deps.registrations.count(), deps.registrations.list(offset, limit)]);
    return { status: 200, body: { total, offset, limit, items } };
  }
  let pattern: RegExp | undefined;
  try {
    pattern = q.has('endpoint') ? compilePattern(q.get('endpoint') as string) : undefined;
  } catch (err) {
    return { status: 400, body: { error: `endpoint: ${errorMessage(err)}` } };
  }
  // Filters scan the store page by page (bounded): `next` continues where this page stopped.
  const items: Registration[] = [];
  let at = offset;
  let skipped = 0;
  for (; items.length < limit && at - offset < MAX_SCAN;) {
    const page = await deps.registrations.list(at, 500);
    for (const reg of page) {
      at++;
      if (matches(reg, q, pattern)) items.push(reg);
      else skipped++;
      if (items.length >= limit) break;
    }
    if (page.length < 500 && items.length < limit)
      return { status: 200, body: { offset, limit, items, scanned: at - offset, next: null } };
  }
  return { status: 200, body: { offset, limit, items, scanned: at - offset, skipped, next: at } };
}

export async function showDevice(deps: DeviceApiDeps, endpoint: string): Promise<ApiReply> {
  const reg = await deps.registrations.getByEndpoint(endpoint);
  if (reg === undefined) return { status: 404, body: { error: `${endpoint} is not registered` } };
  const observations = deps.server ? await deps.server.listObservations(endpoint).catch(() => []) : [];
  return {
    status: 200,
    body: {
      registration: reg,
      objects: reg.objects,
      observations,
      rpc: deps.rpc ? await deps.rpc.pending(endpoint) : [],
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new Error(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

export async function postRpc(deps: DeviceApiDeps, endpoint: string, req: IncomingMessage): Promise<ApiReply> {
  if (deps.rpc === undefined) return { status: 503, body: { error: 'RPC is not available' } };
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    return { status: 400, body: { result: 'BAD_REQUEST', error: `body: ${errorMessage(err)}` } };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { status: 400, body: { result: 'BAD_REQUEST', error: 'body: expected a JSON object {method, params}' } };
  const record = { id: randomUUID(), ...body, endpoint };
  const parsed = parseRpcRequest(JSON.stringify(record));
  if (isRejection(parsed)) return { status: 400, body: { ...parsed, result: 'BAD_REQUEST' } };
  let outcome: Awaited<ReturnType<RpcService['submit']>>;
  try {
    outcome = await deps.rpc.submit(parsed, { wait: true });
  } catch (err) {
    return { status: 503, body: { id: parsed.id, error: `the request could not be queued: ${errorMessage(err)}` } };
  }
  if (outcome.duplicate || outcome.response === undefined)
    return { status: 409, body: { id: parsed.id, error: 'a request with this id was already taken' } };
  // The response comes from whichever instance reaches the device; should its hand-back be
  // lost, the caller is told where the response went rather than left waiting.
  const wait = Math.max(0, outcome.deadline - Date.now()) + RESPONSE_GRACE_MS;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, wait, undefined)));
  const shutdown = deps.rpc.stoppedSignal.then(() => 'shutdown' as const);
  const response = await Promise.race([outcome.response, late, shutdown]);
  clearTimeout(timer);
  if (response === 'shutdown') {
    // The caller's connection ends with this instance; the request does not (invariant 3).
    return {
      status: 503,
      headers: { 'retry-after': '1' },
      body: {
        id: parsed.id,
        error:
          'this instance is shutting down: the request stays queued and another instance runs it; its response is published on the RPC responses topic',
      },
    };
  }
  if (response === undefined)
    return {
      status: 504,
      body: {
        id: parsed.id,
        error: 'no response reached this instance in time; it is published on the RPC responses topic',
      },
    };
  return { status: 200, body: response };
}

/** How long past a request's deadline the HTTP caller waits for its response. */
const RESPONSE_GRACE_MS = 5_000;
