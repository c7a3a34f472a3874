/**
 * DTLS connection state in a real Redis: shared by two store instances, sealed (no master secret
 * in clear, unreadable under another secret), write blocks that never overlap, a read mark that
 * only rises, and lookups by CID and address that follow a move.
 * Runs twice: on the single test Redis and on a 3-master Redis Cluster (../support/redis-targets.ts),
 * where every script's keys must share a hash tag (Redis Cluster spec, "Hash tags").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { WRITE_BLOCK, type SharedSession } from '../../src/dtls/shared-sessions';
import { RedisDtlsSessions } from '../../src/store/redis-dtls-sessions';
import type { RedisClient } from '../../src/store';
import { describeRedisTargets } from '../support/redis-targets';

const prefix = `dtlss-${randomUUID().slice(0, 8)}`;
const secret = Buffer.from('a shared secret of the instances');

describeRedisTargets(
  'RedisDtlsSessions',
  (target) => {
    let redis: RedisClient;
    beforeAll(() => {
      redis = target().client();
    });

    const session = (): SharedSession => ({
      sessionId: randomBytes(32),
      suite: 0xc0a8,
      master: randomBytes(48),
      clientRandom: randomBytes(32),
      serverRandom: randomBytes(32),
      extendedMasterSecret: true,
      identity: { mode: 'psk', name: 'id-1', endpoint: 'ep-1' },
      ownCid: randomBytes(6),
      peerCid: randomBytes(4),
      createdAt: Date.now(),
    });

    it('is shared by two instances, found by session ID, CID and address, and follows a move', async () => {
      const one = new RedisDtlsSessions({ redis, keyPrefix: prefix, secret, ttlMs: 60_000 });
      const other = new RedisDtlsSessions({ redis, keyPrefix: prefix, secret, ttlMs: 60_000 });
      const s = session();
      await one.save(s, '192.0.2.1:5000');
      expect(await other.get(s.sessionId)).toEqual(s);
      expect((await other.byCid(s.ownCid as Buffer))?.master.equals(s.master)).toBe(true);
      expect((await other.byPeer('192.0.2.1:5000'))?.sessionId.equals(s.sessionId)).toBe(true);
      await other.moved(s.sessionId, '198.51.100.2:6000');
      expect((await one.byPeer('198.51.100.2:6000'))?.identity).toEqual(s.identity);
      expect(await one.byCid(randomBytes(6))).toBeUndefined();
      expect(await redis.pttl(`${prefix}:{dtls:${s.sessionId.toString('hex')}}`)).toBeGreaterThan(50_000);
    });

    it('keeps no master secret in clear, and an instance with another secret reads nothing', async () => {
      const one = new RedisDtlsSessions({ redis, keyPrefix: prefix, secret, ttlMs: 60_000 });
      const s = session();
      await one.save(s, '192.0.2.9:1');
      const stored = JSON.stringify(await redis.hgetall(`${prefix}:{dtls:${s.sessionId.toString('hex')}}`));
      for (const form of ['hex', 'base64'] as const) expect(stored).not.toContain(s.master.toString(form));
      const stranger = new RedisDtlsSessions({
        redis,
        keyPrefix: prefix,
        secret: Buffer.from('another secret entirely'),
        ttlMs: 60_000,
      });
      expect(await stranger.get(s.sessionId)).toBeUndefined();
      expect(await stranger.byPeer('192.0.2.9:1')).toBeUndefined();
    });

    it("hands out write blocks that never overlap (the first is the saver's), and a read mark that only rises", async () => {
      const one = new RedisDtlsSessions({ redis, keyPrefix: prefix, secret, ttlMs: 60_000 });
      const other = new RedisDtlsSessions({ redis, keyPrefix: prefix, secret, ttlMs: 60_000 });
      const s = session();
      await one.save(s, '192.0.2.3:3');
      const starts = await Promise.all([
        one.reserveWrites(s.sessionId),
        other.reserveWrites(s.sessionId),
        one.reserveWrites(s.sessionId),
      ]);
      expect([...starts].sort((x, y) => x - y)).toEqual([WRITE_BLOCK, 2 * WRITE_BLOCK, 3 * WRITE_BLOCK]);
      expect(await other.readMark(s.sessionId)).toBe(-1);
      await one.markRead(s.sessionId, 500);
      await other.markRead(s.sessionId, 200);
      expect(await one.readMark(s.sessionId)).toBe(500);
    });
  },
  [`${prefix}:*`],
);
