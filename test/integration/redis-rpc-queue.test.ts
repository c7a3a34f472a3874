/**
 * The RPC queue and the instance hand-off against a real Redis: order, dedup, leases and their
 * take-over, the claim that lets exactly one caller answer, the sweep with several sweepers at
 * once, and heartbeat plus pub/sub between two instances.
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomUUID } from 'node:crypto';
import type { RpcRequest } from '../../src/rpc/request';
import type { PeerMessage } from '../../src/rpc/rpc-peers';
import type { QueuedRpc } from '../../src/rpc/rpc-queue';
import { RedisKeys } from '../../src/store/keys';
import { RedisIo } from '../../src/store/redis-io';
import { RedisPeers } from '../../src/store/redis-peers';
import { RedisRpcQueue } from '../../src/store/redis-rpc-queue';
import { RPC_DUE_SETTLE } from '../../src/store/rpc-scripts';
import type { LuaScript } from '../../src/store/scripts';
import { RedisStats } from '../../src/store/redis-stats';
import { describeRedisTargets } from '../support/redis-targets';

const prefix = `rq-${randomUUID().slice(0, 8)}`;
const keys = new RedisKeys(prefix);
const T0 = 1_700_000_000_000;

describeRedisTargets(
  'RPC queue and peers',
  (target) => {
    const client = () => target().client({ maxRetriesPerRequest: 2 });

    function queue(): RedisRpcQueue {
      return new RedisRpcQueue({ io: new RedisIo(client(), new RedisStats()), keys });
    }

    const req = (endpoint: string, id: string): RpcRequest => ({
      id,
      endpoint,
      method: 'Read',
      params: { id: '/3/0/9' },
    });
    const entry = (endpoint: string, id: string, deadline = T0 + 60_000): QueuedRpc => ({
      req: req(endpoint, id),
      deadline,
      takenAt: T0,
    });
    const ep = (): string => `dev-${randomUUID().slice(0, 8)}`;

    describe('RedisRpcQueue', () => {
      it('keeps requests in order, one in flight, and refuses a repeated id', async () => {
        const q = queue();
        const e = ep();
        expect(await q.enqueue(entry(e, 'a'), T0)).toBe('queued');
        expect(await q.enqueue(entry(e, 'b'), T0)).toBe('queued');
        expect(await q.enqueue(entry(e, 'a'), T0 + 5)).toBe('duplicate');
        const first = await q.lease(e, 'A', T0, 120_000);
        expect(first).toMatchObject({ kind: 'leased', entry: { req: { id: 'a' } } });
        expect(await q.lease(e, 'B', T0, 120_000)).toEqual({ kind: 'busy', holder: 'A' });
        // A live lease is taken over only from the holder named as gone.
        expect(await q.lease(e, 'B', T0, 120_000, 'C')).toEqual({ kind: 'busy', holder: 'A' });
        expect((await q.pending(e)).map((p) => `${p.id}:${p.running ? (p.instance ?? '?') : '-'}`)).toEqual([
          'a:A',
          'b:-',
        ]);
        expect(await q.complete(e, 'a')).toBe(true);
        expect(await q.complete(e, 'a')).toBe(false);
        expect(await q.lease(e, 'B', T0, 120_000)).toMatchObject({ kind: 'leased', entry: { req: { id: 'b' } } });
        // Asleep: back at the head, then taken again.
        await q.release(e, 'b');
        expect(await q.enqueue(entry(e, 'c'), T0)).toBe('queued');
        expect((await q.pending(e)).map((p) => p.id)).toEqual(['b', 'c']);
        expect(await q.lease(e, 'B', T0, 120_000)).toMatchObject({ kind: 'leased', entry: { req: { id: 'b' } } });
        expect((await q.takeAll(e)).map((x) => x.req.id)).toEqual(['b', 'c']);
        expect(await q.lease(e, 'B', T0, 120_000)).toEqual({ kind: 'empty' });
        // The id stays taken after the queue emptied.
        expect(await q.enqueue(entry(e, 'b'), T0)).toBe('duplicate');
      });

      it('takes a live lease over from a holder named as gone, once, and from no other', async () => {
        const e = ep();
        const q = queue();
        await q.enqueue(entry(e, 'f', T0 + 600_000), T0);
        expect(await q.lease(e, 'dead', T0, 120_000)).toMatchObject({ kind: 'leased' });
        const [first, second] = await Promise.all([
          q.lease(e, 'B', T0 + 10, 120_000, 'dead'),
          q.lease(e, 'C', T0 + 10, 120_000, 'dead'),
        ]);
        // One of the two takes it; the other now sees the taker's live lease.
        const outcomes = [first, second].map((o) => o?.kind).sort();
        expect(outcomes).toEqual(['busy', 'leased']);
        expect((await q.pending(e)).map((p) => p.instance)).toEqual([first?.kind === 'leased' ? 'B' : 'C']);
        expect(await q.complete(e, 'f')).toBe(true); // leaves nothing for the sweep test
      });

      it('lets exactly one of many concurrent claimers answer a request', async () => {
        const e = ep();
        const qs = [queue(), queue(), queue()];
        await qs[0]?.enqueue(entry(e, 'x'), T0);
        const results = await Promise.all(
          qs.flatMap((q) => [q.complete(e, 'x'), q.complete(e, 'x'), q.takeAll(e).then((all) => all.length === 1)]),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('sweeps: expires what passed its deadline exactly once across sweepers, and frees a lease whose holder vanished', async () => {
        const e1 = ep();
        const e2 = ep();
        const q = queue();
        await q.enqueue(entry(e1, 'soon', T0 + 1_000), T0);
        await q.enqueue(entry(e1, 'later', T0 + 600_000), T0);
        await q.enqueue(entry(e2, 'flight', T0 + 600_000), T0);
        expect(await q.lease(e2, 'dead', T0, 120_000)).toMatchObject({ kind: 'leased' });

        const sweepers = [queue(), queue(), queue()];
        const early = await Promise.all(sweepers.map((s) => s.sweep(T0 + 500)));
        expect(early.flatMap((o) => o.expired)).toEqual([]);

        const mid = await Promise.all(sweepers.map((s) => s.sweep(T0 + 2_000)));
        expect(mid.flatMap((o) => o.expired.map((x) => x.req.id))).toEqual(['soon']);
        expect(mid.flatMap((o) => o.stalled)).toEqual([]);

        // The lease (min(deadline, now + 120 s) + 2 s) passes: the request goes back to the head.
        const after = await Promise.all(sweepers.map((s) => s.sweep(T0 + 123_000)));
        expect(after.flatMap((o) => o.stalled)).toEqual([e2]);
        expect(await q.lease(e2, 'B', T0 + 123_000, 120_000)).toMatchObject({
          kind: 'leased',
          entry: { req: { id: 'flight' } },
        });
        expect((await q.pending(e1)).map((p) => p.id)).toEqual(['later']);

        const end = await Promise.all(sweepers.map((s) => s.sweep(T0 + 700_000)));
        expect(end.flatMap((o) => o.expired.map((x) => x.req.id)).sort()).toEqual(['flight', 'later']);
        expect(await q.pending(e1)).toEqual([]);
        const due = await target().admin().zscore(keys.rpcDueOf(e1), e1);
        expect(due).toBeNull();
      });

      it('an entry queued while a sweep takes its endpoint out of the index is put back, and found by a later sweep', async () => {
        const e = ep();
        const q = queue();
        await q.enqueue(entry(e, 'only', T0 + 1_000), T0);
        // A sweeper whose RPC_EXPIRE saw an empty queue; the enqueue lands just before it settles.
        let raced: Promise<unknown> | undefined;
        const io = new (class extends RedisIo {
          override async script(
            op: Parameters<RedisIo['script']>[0],
            script: LuaScript,
            k: readonly string[],
            args: readonly (string | number)[],
          ): Promise<unknown> {
            if (script === RPC_DUE_SETTLE && raced === undefined) {
              raced = q.enqueue(entry(e, 'raced', T0 + 100_000), T0 + 5_000);
              await raced;
            }
            return super.script(op, script, k, args);
          }
        })(client(), new RedisStats());
        const sweeper = new RedisRpcQueue({ io, keys });
        expect((await sweeper.sweep(T0 + 5_000)).expired.map((x) => x.req.id)).toEqual(['only']);
        expect(raced).toBeDefined();
        expect(Number(await target().admin().zscore(keys.rpcDueOf(e), e))).toBe(T0 + 100_000);
        expect((await q.sweep(T0 + 100_001)).expired.map((x) => x.req.id)).toEqual(['raced']);
        // The keys themselves expire a dedup window after the last deadline: never kept forever.
        expect(await target().admin().pttl(keys.rpcSeenByEndpoint(e))).toBeGreaterThan(0);
      });

      it('drops an unreadable entry with a report instead of blocking the queue behind it', async () => {
        const e = ep();
        const seen: string[] = [];
        const q = new RedisRpcQueue({
          io: new RedisIo(client(), new RedisStats()),
          keys,
          onUnreadable: (_ep, text) => seen.push(text),
        });
        await q.enqueue(entry(e, 'ok'), T0);
        const c = target().admin();
        await c.hset(keys.rpcEntriesByEndpoint(e), 'junk', 'not json');
        await c.lpush(keys.rpcQueueByEndpoint(e), 'junk');
        expect(await q.lease(e, 'A', T0, 120_000)).toMatchObject({ kind: 'leased', entry: { req: { id: 'ok' } } });
        expect(seen).toEqual(['not json']);
      });
    });

    describe('RedisPeers', () => {
      it('knows live instances by their heartbeat, delivers to them, and reports a gone one', async () => {
        const got: PeerMessage[] = [];
        // As the bridge sets it (src/wiring/stores.ts): on a cluster PUBLISH counts one node's listeners only.
        const publishCountIsNodeLocal = target().name === 'cluster';
        const a = new RedisPeers({
          self: `a-${randomUUID()}`,
          io: new RedisIo(client(), new RedisStats()),
          keys,
          subscriber: client(),
          heartbeatMs: 200,
          publishCountIsNodeLocal,
        });
        const b = new RedisPeers({
          self: `b-${randomUUID()}`,
          io: new RedisIo(client(), new RedisStats()),
          keys,
          subscriber: client(),
          heartbeatMs: 200,
          publishCountIsNodeLocal,
        });
        a.onMessage((m) => got.push(m));
        const deadline = Date.now() + 10_000;
        while (!(await b.alive(a.self)) || !(await b.send(a.self, { kind: 'drain', endpoint: 'probe' }))) {
          if (Date.now() > deadline) throw new Error('instance a never became reachable over Redis');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await b.send(a.self, { kind: 'drain', endpoint: 'dev-1' })).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(got.filter((m) => m.kind === 'drain' && m.endpoint === 'dev-1')).toHaveLength(1);
        await a.close();
        expect(await b.alive(a.self)).toBe(false);
        expect(await b.send(a.self, { kind: 'drain', endpoint: 'dev-1' })).toBe(false);
        await b.close();
      });
    });
  },
  [`${prefix}:*`],
);
