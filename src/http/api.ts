/**
 * The HTTP side: health, readiness and Prometheus metrics (always open), and the device and RPC
 * API (./device-api.ts; a bearer token outside embedded mode).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { authorize, listDevices, postRpc, showDevice, type ApiReply, type DeviceApiDeps } from './device-api';
import { errorMessage } from '../common/error-message';

export interface HttpApiDeps extends DeviceApiDeps {
  readonly metrics: Registry;
  /** Redis and Kafka reachable, and not shutting down (GET /readyz). */
  readonly ready: () => boolean;
  /** Started and not shutting down (GET /readyz/serving: the Kubernetes readiness probe). */
  readonly serving: () => boolean;
  readonly debugEndpoints: boolean;
}

export function createHttpApi(deps: HttpApiDeps): Server {
  return createServer((req, res) => {
    route(deps, req, res).catch((err: unknown) => json(res, 500, { error: errorMessage(err) }));
  });
}

async function route(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
  if (req.method === 'GET' && path === '/readyz')
    return deps.ready() ? json(res, 200, { status: 'ready' }) : json(res, 503, { status: 'not ready' });
  // For a load balancer's readiness probe: started and not shutting down. Redis and Kafka are not
  // part of it: every instance shares them, so their outage would empty the Service, and devices
  // would get silence instead of 5.03 with Max-Age (DESIGN invariant 3).
  if (req.method === 'GET' && path === '/readyz/serving')
    return deps.serving() ? json(res, 200, { status: 'serving' }) : json(res, 503, { status: 'shutting down' });
  if (req.method === 'GET' && path === '/metrics') {
    const body = await deps.metrics.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(body);
    return;
  }
  if (path === '/devices' || path.startsWith('/devices/')) return reply(res, await devices(deps, req, url));
  if (deps.debugEndpoints && req.method === 'POST' && path === '/debug/gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    const mem = process.memoryUsage();
    return json(res, 200, {
      gc: gc !== undefined,
      heapUsed: mem.heapUsed,
      rss: mem.rss,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
    });
  }
  json(res, 404, { error: `no route ${req.method} ${path}` });
}

async function devices(deps: HttpApiDeps, req: IncomingMessage, url: URL): Promise<ApiReply> {
  const denied = authorize(deps, req);
  if (denied) return denied;
  const path = url.pathname;
  if (req.method === 'GET' && path === '/devices') {
    const offset = clampInt(url.searchParams.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = clampInt(url.searchParams.get('limit'), 100, 1, 1000);
    return listDevices(deps, url.searchParams, offset, limit);
  }
  const m = /^\/devices\/([^/]+)(\/rpc)?$/.exec(path);
  const endpoint = m ? decodeURIComponent(m[1] as string) : undefined;
  if (endpoint !== undefined && m?.[2] === undefined && req.method === 'GET') return showDevice(deps, endpoint);
  if (endpoint !== undefined && m?.[2] !== undefined && req.method === 'POST') return postRpc(deps, endpoint, req);
  return { status: 404, body: { error: `no route ${req.method} ${path}` } };
}

function reply(res: ServerResponse, r: ApiReply): void {
  json(res, r.status, r.body, r.headers);
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function clampInt(v: string | null, dflt: number, min: number, max: number): number {
  const n = v === null ? dflt : Number.parseInt(v, 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : dflt;
}
