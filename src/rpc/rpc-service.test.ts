import type { RpcResponseRecord } from '../bus/contract/rpc-records';
import type { BusRecord } from '../bus/types';
import { ServerEvents } from '../server/events';
import type { Registration } from '../server/registration/registration';
import type { RpcRequest } from './request';
import { RpcService } from './rpc-service';

const reg = (endpoint: string, queueMode: boolean): Registration =>
  ({ id: `r-${endpoint}`, endpoint, address: '127.0.0.1', port: 1, lifetime: 60, lwm2mVersion: '1.1', binding: queueMode ? 'UQ' : 'U', queueMode, rootPath: '/', objects: [], objectLinks: '', registeredAt: 0, lastUpdate: 0, expiresAt: 1e13 }) as Registration;

function setup(opts: { queueMode: boolean; answer?: (req: RpcRequest) => string }) {
  let now = 1_000_000;
  const events = new ServerEvents();
  const published: BusRecord[] = [];
  const ran: string[] = [];
  const regs = new Map<string, Registration>([['ep', reg('ep', opts.queueMode)]]);
  const service = new RpcService({
    executor: {
      execute: async (req: RpcRequest): Promise<RpcResponseRecord> => {
        ran.push(req.id);
        return { id: req.id, endpoint: req.endpoint, method: req.method, result: opts.answer?.(req) ?? 'CONTENT', ts: now };
      },
    },
    registration: async (ep) => regs.get(ep),
    publish: async (records) => void published.push(...records),
    topics: { responses: 'responses', events: 'events' },
    events,
    defaultTimeoutMs: 10_000,
    awakeMs: 5_000,
    sweepMs: 3_600_000,
    now: () => now,
  });
  const request = (id: string, extra: Partial<RpcRequest> = {}): RpcRequest => ({ id, endpoint: 'ep', method: 'Read', params: { id: '/3/0/9' }, ...extra });
  const types = () => published.filter((r) => r.topic === 'events').map((r) => `${(r.value as { type: string }).type}:${(r.value as { detail: { rpcId: string } }).detail.rpcId}`);
  const responses = () => published.filter((r) => r.topic === 'responses').map((r) => r.value as RpcResponseRecord);
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { service, events, ran, regs, request, types, responses, flush, advance: (ms: number) => (now += ms), sweep: () => (service as unknown as { sweep(): void }).sweep() };
}

describe('RpcService', () => {
  it('runs requests of a device in order, one at a time, with progress events and one response each', async () => {
    const t = setup({ queueMode: false });
    const a = t.service.submit(t.request('a'));
    const b = t.service.submit(t.request('b'));
    expect(a.duplicate || b.duplicate).toBe(false);
    await Promise.all([a.response, b.response]);
    await t.flush();
    expect(t.ran).toEqual(['a', 'b']);
    expect(t.types()).toEqual(['rpc-queued:a', 'rpc-queued:b', 'rpc-sent:a', 'rpc-delivered:a', 'rpc-sent:b', 'rpc-delivered:b']);
    expect(t.responses().map((r) => `${r.id}:${r.result}`)).toEqual(['a:CONTENT', 'b:CONTENT']);
    t.service.stop();
  });

  it('does not run a repeated request id', async () => {
    const t = setup({ queueMode: false });
    await (t.service.submit(t.request('a')) as { response: Promise<unknown> }).response;
    expect(t.service.submit(t.request('a')).duplicate).toBe(true);
    await t.flush();
    expect(t.ran).toEqual(['a']);
    t.service.stop();
  });

  it('holds requests for a sleeping queue-mode device until its next uplink, then runs them in order', async () => {
    const t = setup({ queueMode: true });
    t.service.submit(t.request('a'));
    t.service.submit(t.request('b'));
    await t.flush();
    expect(t.ran).toEqual([]);
    expect(t.service.pending('ep').map((p) => p.id)).toEqual(['a', 'b']);
    t.events.emit({ type: 'updated', before: reg('ep', true), after: reg('ep', true), addressChanged: false });
    await t.flush();
    await t.flush();
    expect(t.ran).toEqual(['a', 'b']);
    t.service.stop();
  });

  it('answers TIMEOUT for a held request whose deadline passes, and NOT_REGISTERED when the device de-registers', async () => {
    const t = setup({ queueMode: true });
    t.service.submit(t.request('late', { timeoutMs: 1000 }));
    t.service.submit(t.request('gone'));
    await t.flush();
    t.advance(1500);
    t.sweep();
    t.events.emit({ type: 'deregistered', registration: reg('ep', true) });
    await t.flush();
    expect(t.responses().map((r) => `${r.id}:${r.result}`)).toEqual(['late:TIMEOUT', 'gone:NOT_REGISTERED']);
    expect(t.ran).toEqual([]);
    t.service.stop();
  });

  it('a queue-mode device that does not answer goes back to sleep and keeps the request; an always-on one gets TIMEOUT', async () => {
    const q = setup({ queueMode: true, answer: () => 'TIMEOUT' });
    q.events.emit({ type: 'registered', registration: reg('ep', true) });
    q.service.submit(q.request('a'));
    await q.flush();
    await q.flush();
    expect(q.ran).toEqual(['a']);
    expect(q.responses()).toEqual([]);
    expect(q.service.pending('ep').map((p) => p.id)).toEqual(['a']);
    expect(q.types()).toContain('unreachable:a');
    q.service.stop();

    const u = setup({ queueMode: false, answer: () => 'TIMEOUT' });
    await (u.service.submit(u.request('b')) as { response: Promise<unknown> }).response;
    await u.flush();
    expect(u.responses().map((r) => `${r.id}:${r.result}`)).toEqual(['b:TIMEOUT']);
    expect(u.types()).toContain('unreachable:b');
    u.service.stop();
  });

  it('answers NOT_REGISTERED for an unknown endpoint and TIMEOUT for a request already expired', async () => {
    const t = setup({ queueMode: false });
    const r1 = t.service.submit({ ...t.request('x'), endpoint: 'nobody' });
    const r2 = t.service.submit(t.request('y', { expiresAt: 1 }));
    expect(await (r1 as { response: Promise<RpcResponseRecord> }).response).toMatchObject({ result: 'NOT_REGISTERED' });
    expect(await (r2 as { response: Promise<RpcResponseRecord> }).response).toMatchObject({ result: 'TIMEOUT' });
    t.service.stop();
  });
});
