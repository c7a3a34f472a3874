import type { RpcResponseRecord } from '../contract/rpc-records';
import type { BusRecord } from '../bus/types';
import { ServerEvents } from '../server/events';
import type { Registration } from '../server/registration/registration';
import { MemoryRpcQueue } from './memory-rpc-queue';
import type { RpcRequest } from './request';
import type { PeerMessage, RpcPeers } from './rpc-peers';
import type { RpcQueue } from './rpc-queue';
import { RpcService } from './rpc-service';

const reg = (endpoint: string, queueMode: boolean): Registration =>
  ({
    id: `r-${endpoint}`,
    endpoint,
    address: '127.0.0.1',
    port: 1,
    lifetime: 60,
    lwm2mVersion: '1.1',
    binding: queueMode ? 'UQ' : 'U',
    queueMode,
    rootPath: '/',
    objects: [],
    objectLinks: '',
    registeredAt: 0,
    lastUpdate: 0,
    expiresAt: 1e13,
  }) as Registration;

/** Instances of one test, talking as Redis pub/sub would: to live instances only. */
class PeerNet {
  readonly handlers = new Map<string, (m: PeerMessage) => void>();
  readonly sent: string[] = [];
  peers(self: string): RpcPeers {
    return {
      self,
      alive: async (i) => this.handlers.has(i),
      send: async (i, m) => {
        this.sent.push(`${self}->${i}:${m.kind}`);
        const h = this.handlers.get(i);
        h?.(m);
        return h !== undefined;
      },
      onMessage: (h) => void this.handlers.set(self, h),
      close: async () => void this.handlers.delete(self),
    };
  }
}

interface Setup {
  queueMode: boolean;
  answer?: (req: RpcRequest) => string;
  self?: string;
  owner?: string;
  queue?: RpcQueue;
  net?: PeerNet;
  /** Changes the instance's view of its peers (e.g. a heartbeat that outlives its channel). */
  peers?: (base: RpcPeers) => RpcPeers;
  /** The bus refuses this many response records first (Kafka away). */
  refuseResponses?: number;
}

function setup(o: Setup) {
  let now = 1_000_000;
  const events = new ServerEvents();
  const published: BusRecord[] = [];
  const ran: string[] = [];
  let refused = 0;
  const regs = new Map<string, Registration>([['ep', reg('ep', o.queueMode)]]);
  const net = o.net ?? new PeerNet();
  const queue = o.queue ?? new MemoryRpcQueue(1000, () => now);
  const service = new RpcService({
    executor: {
      execute: async (req: RpcRequest): Promise<RpcResponseRecord> => {
        ran.push(req.id);
        return {
          id: req.id,
          endpoint: req.endpoint,
          method: req.method,
          result: o.answer?.(req) ?? 'CONTENT',
          ts: now,
        };
      },
    },
    registration: async (ep) => regs.get(ep),
    queue,
    peers: (o.peers ?? ((p) => p))(net.peers(o.self ?? 'me')),
    owner: async () => (o.owner !== undefined ? { instance: o.owner, at: now } : undefined),
    markSeen: async () => undefined,
    publish: async (records) => {
      if (refused < (o.refuseResponses ?? 0) && records.some((r) => r.topic === 'responses')) {
        refused++;
        throw new Error('Kafka is unavailable');
      }
      published.push(...records);
    },
    responseRetryMs: 1,
    topics: { responses: 'responses', events: 'events' },
    events,
    defaultTimeoutMs: 10_000,
    awakeMs: 5_000,
    sweepMs: 3_600_000,
    now: () => now,
  });
  const request = (id: string, extra: Partial<RpcRequest> = {}): RpcRequest => ({
    id,
    endpoint: 'ep',
    method: 'Read',
    params: { id: '/3/0/9' },
    ...extra,
  });
  const types = () =>
    published
      .filter((r) => r.topic === 'events')
      .map((r) => `${(r.value as { type: string }).type}:${(r.value as { detail: { rpcId: string } }).detail.rpcId}`);
  const responses = () =>
    published
      .filter((r) => r.topic === 'responses')
      .map((r) => `${(r.value as RpcResponseRecord).id}:${(r.value as RpcResponseRecord).result}`);
  const settled = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const pendingIds = async () => (await service.pending('ep')).map((p) => p.id);
  const sweep = () => (service as unknown as { sweep(): Promise<void> }).sweep();
  return {
    service,
    events,
    ran,
    refused: () => refused,
    regs,
    queue,
    net,
    request,
    types,
    responses,
    settled,
    pendingIds,
    sweep,
    advance: (ms: number) => (now += ms),
  };
}

describe('RpcService', () => {
  it('runs requests of a device in order, one at a time, with progress events and one response each', async () => {
    const t = setup({ queueMode: false });
    const a = await t.service.submit(t.request('a'));
    const b = await t.service.submit(t.request('b'));
    expect(a.duplicate || b.duplicate).toBe(false);
    await t.settled();
    expect(t.ran).toEqual(['a', 'b']);
    expect(t.types()).toEqual([
      'rpc-queued:a',
      'rpc-queued:b',
      'rpc-sent:a',
      'rpc-delivered:a',
      'rpc-sent:b',
      'rpc-delivered:b',
    ]);
    expect(t.responses()).toEqual(['a:CONTENT', 'b:CONTENT']);
    t.service.stop();
  });

  it('does not run a repeated request id', async () => {
    const t = setup({ queueMode: false });
    await t.service.submit(t.request('a'));
    await t.settled();
    expect((await t.service.submit(t.request('a'))).duplicate).toBe(true);
    await t.settled();
    expect(t.ran).toEqual(['a']);
    expect(t.responses()).toEqual(['a:CONTENT']);
    t.service.stop();
  });

  it('hands the response to an in-process caller that waits (the HTTP API)', async () => {
    const t = setup({ queueMode: false });
    const outcome = await t.service.submit(t.request('w'), { wait: true });
    expect(outcome.duplicate).toBe(false);
    expect(outcome.duplicate === false && (await outcome.response)).toMatchObject({ id: 'w', result: 'CONTENT' });
    t.service.stop();
  });

  it('holds requests for a sleeping queue-mode device until its next uplink, then runs them in order', async () => {
    const t = setup({ queueMode: true });
    await t.service.submit(t.request('a'));
    await t.service.submit(t.request('b'));
    await t.settled();
    expect(t.ran).toEqual([]);
    expect(await t.pendingIds()).toEqual(['a', 'b']);
    t.events.emit({ type: 'updated', before: reg('ep', true), after: reg('ep', true), addressChanged: false });
    await t.settled();
    expect(t.ran).toEqual(['a', 'b']);
    expect(await t.pendingIds()).toEqual([]);
    t.service.stop();
  });

  it('answers TIMEOUT for a held request whose deadline passes, and NOT_REGISTERED when the device de-registers', async () => {
    const t = setup({ queueMode: true });
    await t.service.submit(t.request('late', { timeoutMs: 1000 }));
    await t.service.submit(t.request('gone'));
    await t.settled();
    t.advance(1500);
    await t.sweep();
    t.events.emit({ type: 'deregistered', registration: reg('ep', true) });
    await t.settled();
    expect(t.responses()).toEqual(['late:TIMEOUT', 'gone:NOT_REGISTERED']);
    expect(t.ran).toEqual([]);
    t.service.stop();
  });

  it('a queue-mode device that does not answer goes back to sleep and keeps the request; an always-on one gets TIMEOUT', async () => {
    const q = setup({ queueMode: true, answer: () => 'TIMEOUT' });
    q.events.emit({ type: 'registered', registration: reg('ep', true) });
    await q.service.submit(q.request('a'));
    await q.settled();
    expect(q.ran).toEqual(['a']);
    expect(q.responses()).toEqual([]);
    expect(await q.pendingIds()).toEqual(['a']);
    expect(q.types()).toContain('unreachable:a');
    q.service.stop();

    const u = setup({ queueMode: false, answer: () => 'TIMEOUT' });
    await u.service.submit(u.request('b'));
    await u.settled();
    expect(u.responses()).toEqual(['b:TIMEOUT']);
    expect(u.types()).toContain('unreachable:b');
    u.service.stop();
  });

  it('answers NOT_REGISTERED for an unknown endpoint and TIMEOUT for a request already expired', async () => {
    const t = setup({ queueMode: false });
    const r1 = await t.service.submit({ ...t.request('x'), endpoint: 'nobody' }, { wait: true });
    const r2 = await t.service.submit(t.request('y', { expiresAt: 1 }), { wait: true });
    expect(r1.duplicate === false && (await r1.response)).toMatchObject({ result: 'NOT_REGISTERED' });
    expect(r2.duplicate === false && (await r2.response)).toMatchObject({ result: 'TIMEOUT' });
    t.service.stop();
  });

  it('hands a request to the live instance that reaches the device, which runs it and answers the waiting caller', async () => {
    const net = new PeerNet();
    const queue = new MemoryRpcQueue();
    const owner = setup({ queueMode: false, self: 'A', owner: 'A', net, queue });
    const taker = setup({ queueMode: false, self: 'B', owner: 'A', net, queue });
    const outcome = await taker.service.submit(taker.request('h'), { wait: true });
    expect(outcome.duplicate === false && (await outcome.response)).toMatchObject({ id: 'h', result: 'CONTENT' });
    expect(owner.ran).toEqual(['h']);
    expect(taker.ran).toEqual([]);
    expect(net.sent).toEqual(['B->A:drain', 'A->B:response']);
    owner.service.stop();
    taker.service.stop();
  });

  it.each(['CANCELLED', 'TIMEOUT'])(
    'an exchange cut short by the shutdown (%s) goes back to the queue unanswered, for another instance',
    async (cut) => {
      const t = setup({
        queueMode: false,
        answer: () => {
          t.service.stop(); // the endpoint closes under the exchange (src/coap/outbound.ts cancelAll)
          return cut;
        },
      });
      await t.service.submit(t.request('s'));
      await t.settled();
      expect(t.ran).toEqual(['s']);
      expect(t.responses()).toEqual([]);
      expect(await t.pendingIds()).toEqual(['s']);
    },
  );

  it('a request in flight on an instance that died is taken over once its lease passes', async () => {
    const queue = new MemoryRpcQueue();
    const t = setup({ queueMode: false, self: 'B', queue });
    // Instance "A" leased it and vanished.
    await queue.enqueue({ req: t.request('z'), deadline: 1_000_000 + 600_000, takenAt: 1_000_000 }, 1_000_000);
    expect(await queue.lease('ep', 'A', 1_000_000, 120_000)).toMatchObject({ kind: 'leased' });
    await t.sweep();
    await t.settled();
    expect(t.ran).toEqual([]);
    t.advance(125_000);
    await t.sweep();
    await t.settled();
    expect(t.ran).toEqual(['z']);
    expect(t.responses()).toEqual(['z:CONTENT']);
    t.service.stop();
  });

  it('takes over at once a request in flight on an instance known to be gone, when the device shows up', async () => {
    const queue = new MemoryRpcQueue();
    const t = setup({ queueMode: false, self: 'B', queue });
    // Instance "A" leased it and died (no heartbeat): its lease has not passed.
    await queue.enqueue({ req: t.request('k'), deadline: 1_000_000 + 600_000, takenAt: 1_000_000 }, 1_000_000);
    expect(await queue.lease('ep', 'A', 1_000_000, 120_000)).toMatchObject({ kind: 'leased' });
    t.events.emit({ type: 'send', registration: t.regs.get('ep') as Registration, entries: [] });
    await t.settled();
    expect(t.ran).toEqual(['k']);
    expect(t.responses()).toEqual(['k:CONTENT']);
    t.service.stop();
  });

  it('an owner whose heartbeat lingers after it died (nobody on its channel) counts as gone: no blind send from here', async () => {
    const net = new PeerNet();
    // Alive by heartbeat, but a hand-off reaches nobody.
    const t = setup({
      queueMode: false,
      self: 'B',
      owner: 'A-just-died',
      net,
      peers: (p) => ({ ...p, alive: async () => true, send: async () => false }),
    });
    await t.service.submit(t.request('d'));
    await t.settled();
    expect(t.ran).toEqual([]);
    expect(await t.pendingIds()).toEqual(['d']);
    t.events.emit({ type: 'send', registration: t.regs.get('ep') as Registration, entries: [] });
    await t.settled();
    expect(t.ran).toEqual(['d']);
    expect(t.responses()).toEqual(['d:CONTENT']);
    t.service.stop();
  });

  it('a request for a device whose owner is gone waits, first in line, for the instance that sees the device next', async () => {
    const net = new PeerNet();
    const t = setup({ queueMode: false, self: 'B', owner: 'A-dead', net });
    await t.service.submit(t.request('u'));
    await t.settled();
    // Not sent from here: behind its NAT the device accepts only the instance its flow goes to.
    expect(t.ran).toEqual([]);
    expect(t.responses()).toEqual([]);
    expect(await t.pendingIds()).toEqual(['u']);
    // The device's next uplink reaches this instance: the request runs and is answered once.
    t.events.emit({ type: 'send', registration: t.regs.get('ep') as Registration, entries: [] });
    await t.settled();
    expect(t.ran).toEqual(['u']);
    expect(t.responses()).toEqual(['u:CONTENT']);
    t.service.stop();
  });

  it('runs an unanswered request again when the device moved meanwhile (a NAT rebinding shown by its Update)', async () => {
    let tries = 0;
    const t = setup({
      queueMode: false,
      answer: () => {
        if (++tries > 1) return 'CONTENT';
        // While the first try waits, the device's Update records its new public port.
        t.regs.set('ep', { ...(t.regs.get('ep') as Registration), port: 2 });
        return 'TIMEOUT';
      },
    });
    await t.service.submit(t.request('m'));
    await t.settled();
    expect(t.ran).toEqual(['m', 'm']);
    expect(t.responses()).toEqual(['m:CONTENT']);
    t.service.stop();
  });

  it('answers TIMEOUT when the device neither answers nor moved', async () => {
    const t = setup({ queueMode: false, answer: () => 'TIMEOUT' });
    await t.service.submit(t.request('n'));
    await t.settled();
    expect(t.ran).toEqual(['n']);
    expect(t.responses()).toEqual(['n:TIMEOUT']);
    t.service.stop();
  });

  it('publishes a claimed response however long the bus refuses it', async () => {
    const t = setup({ queueMode: false, answer: () => 'TIMEOUT', refuseResponses: 3 });
    await t.service.submit(t.request('r'));
    for (let i = 0; i < 100 && t.responses().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(t.responses()).toEqual(['r:TIMEOUT']);
    expect(t.refused()).toBe(3);
    t.service.stop();
  });

  it('rejects a bad record with BAD_REQUEST and the error, keeping id and endpoint', async () => {
    const t = setup({ queueMode: false });
    await t.service.reject({ id: 'bad', endpoint: 'ep', error: 'params.id: Read needs "id"' });
    expect(t.responses()).toEqual(['bad:BAD_REQUEST']);
    t.service.stop();
  });
});
