/**
 * The HTTP side: health, readiness, Prometheus metrics and a read-only view of devices.
 * (The RPC API arrives with the Kafka RPC work.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { RegistrationStore } from '../store/registration-store';

export interface HttpApiDeps {
  readonly metrics: Registry;
  readonly registrations: RegistrationStore;
  readonly ready: () => boolean;
  readonly debugEndpoints: boolean;
}

export function createHttpApi(deps: HttpApiDeps): Server {
  return createServer((req, res) => {
    route(deps, req, res).catch((err: unknown) => json(res, 500, { error: err instanceof Error ? err.message : String(err) }));
  });
}

async function route(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
  if (req.method === 'GET' && path === '/readyz') return deps.ready() ? json(res, 200, { status: 'ready' }) : json(res, 503, { status: 'not ready' });
  if (req.method === 'GET' && path === '/metrics') {
    const body = await deps.metrics.metrics();
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(body);
    return;
  }
  if (req.method === 'GET' && path === '/devices') {
    const offset = clampInt(url.searchParams.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = clampInt(url.searchParams.get('limit'), 100, 1, 1000);
    const [total, items] = await Promise.all([deps.registrations.count(), deps.registrations.list(offset, limit)]);
    return json(res, 200, { total, offset, limit, items });
  }
  const m = /^\/devices\/([^/]+)$/.exec(path);
  if (req.method === 'GET' && m) {
    const reg = await deps.registrations.getByEndpoint(decodeURIComponent(m[1] as string));
    return reg ? json(res, 200, reg) : json(res, 404, { error: 'not registered' });
  }
  if (deps.debugEndpoints && req.method === 'POST' && path === '/debug/gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    const mem = process.memoryUsage();
    return json(res, 200, { gc: gc !== undefined, heapUsed: mem.heapUsed, rss: mem.rss, external: mem.external, arrayBuffers: mem.arrayBuffers });
  }
  json(res, 404, { error: `no route ${req.method} ${path}` });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function clampInt(v: string | null, dflt: number, min: number, max: number): number {
  const n = v === null ? dflt : Number.parseInt(v, 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : dflt;
}
