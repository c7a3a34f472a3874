/**
 * DTLS connection state shared by every instance, in Redis (src/dtls/shared-sessions.ts for the
 * contract, keys.ts for the layout). The state is sealed with AES-256-GCM under a key derived from
 * DTLS_SHARED_SECRET: a Redis dump alone reveals no master secret, and an instance with another
 * secret cannot read it (it then makes a new handshake).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-io';
import { WRITE_BLOCK, type SharedSession, type SharedSessionStore } from '../dtls/shared-sessions';
import { redisCall } from './redis-call';
import { RedisKeys } from './keys';

/** Raises the read mark only upward, and keeps the session alive. KEYS[1] session, ARGV sequence, ttl. */
const MARK_READ = `local c = tonumber(redis.call('HGET', KEYS[1], 'r') or '-1')
if c ~= nil and tonumber(ARGV[1]) > c then redis.call('HSET', KEYS[1], 'r', ARGV[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`;

interface SealedJson {
  readonly id: string;
  readonly suite: number;
  readonly master: string;
  readonly cr: string;
  readonly sr: string;
  readonly ems: boolean;
  readonly identity: SharedSession['identity'];
  readonly rpk?: string;
  readonly ownCid?: string;
  readonly peerCid?: string;
  readonly mfl?: number;
  readonly at: number;
}

export interface RedisDtlsSessionsOptions {
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly secret: Buffer;
  readonly ttlMs: number;
}

export class RedisDtlsSessions implements SharedSessionStore {
  private readonly keys: RedisKeys;
  private readonly key: Buffer;

  constructor(private readonly o: RedisDtlsSessionsOptions) {
    this.keys = new RedisKeys(o.keyPrefix);
    this.key = createHmac('sha256', o.secret).update('lwm2m-bridge dtls session state').digest();
  }

  async save(s: SharedSession, peer: string): Promise<void> {
    const id = s.sessionId.toString('hex');
    const key = this.keys.dtlsSessionById(id);
    const ttl = this.o.ttlMs;
    await redisCall('save dtls session', async () => {
      await this.o.redis.hset(key, 's', this.seal(s), 'w', String(WRITE_BLOCK), 'r', '-1');
      await Promise.all([
        this.o.redis.pexpire(key, ttl),
        s.ownCid !== undefined
          ? this.o.redis.set(this.keys.dtlsSessionByCid(s.ownCid.toString('hex')), id, 'PX', ttl)
          : Promise.resolve(),
        this.o.redis.set(this.keys.dtlsSessionByPeer(peer), id, 'PX', ttl),
      ]);
    });
  }

  get(sessionId: Buffer): Promise<SharedSession | undefined> {
    return this.load(sessionId.toString('hex'));
  }

  async byCid(cid: Buffer): Promise<SharedSession | undefined> {
    const id = await redisCall('find dtls session by cid', () =>
      this.o.redis.get(this.keys.dtlsSessionByCid(cid.toString('hex'))),
    );
    const s = id === null ? undefined : await this.load(id);
    return s?.ownCid?.equals(cid) === true ? s : undefined;
  }

  async byPeer(peer: string): Promise<SharedSession | undefined> {
    const id = await redisCall('find dtls session by peer', () => this.o.redis.get(this.keys.dtlsSessionByPeer(peer)));
    return id === null ? undefined : this.load(id);
  }

  async moved(sessionId: Buffer, peer: string): Promise<void> {
    await redisCall('move dtls session', () =>
      this.o.redis.set(this.keys.dtlsSessionByPeer(peer), sessionId.toString('hex'), 'PX', this.o.ttlMs),
    );
  }

  async reserveWrites(sessionId: Buffer): Promise<number> {
    const end = await redisCall('reserve dtls write sequence', () =>
      this.o.redis.hincrby(this.keys.dtlsSessionById(sessionId.toString('hex')), 'w', WRITE_BLOCK),
    );
    return end - WRITE_BLOCK;
  }

  async readMark(sessionId: Buffer): Promise<number> {
    const r = await redisCall('read dtls read mark', () =>
      this.o.redis.hget(this.keys.dtlsSessionById(sessionId.toString('hex')), 'r'),
    );
    return r === null ? -1 : Number(r);
  }

  async markRead(sessionId: Buffer, sequence: number): Promise<void> {
    await redisCall('mark dtls read', () =>
      this.o.redis.eval(
        MARK_READ,
        1,
        this.keys.dtlsSessionById(sessionId.toString('hex')),
        String(sequence),
        String(this.o.ttlMs),
      ),
    );
  }

  private async load(id: string): Promise<SharedSession | undefined> {
    const sealed = await redisCall('load dtls session', () => this.o.redis.hget(this.keys.dtlsSessionById(id), 's'));
    return sealed === null ? undefined : this.unseal(sealed);
  }

  private seal(s: SharedSession): string {
    const doc: SealedJson = {
      id: s.sessionId.toString('hex'),
      suite: s.suite,
      master: s.master.toString('base64'),
      cr: s.clientRandom.toString('base64'),
      sr: s.serverRandom.toString('base64'),
      ems: s.extendedMasterSecret,
      identity: s.identity,
      at: s.createdAt,
      ...(s.rpkDer !== undefined ? { rpk: s.rpkDer.toString('base64') } : {}),
      ...(s.ownCid !== undefined ? { ownCid: s.ownCid.toString('hex') } : {}),
      ...(s.peerCid !== undefined ? { peerCid: s.peerCid.toString('hex') } : {}),
      ...(s.maxFragment !== undefined ? { mfl: s.maxFragment } : {}),
    };
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify(doc), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  /** The session, or undefined when it was sealed under another secret or is unreadable. */
  private unseal(text: string): SharedSession | undefined {
    try {
      const raw = Buffer.from(text, 'base64');
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      const doc = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as SealedJson;
      return {
        sessionId: Buffer.from(doc.id, 'hex'),
        suite: doc.suite,
        master: Buffer.from(doc.master, 'base64'),
        clientRandom: Buffer.from(doc.cr, 'base64'),
        serverRandom: Buffer.from(doc.sr, 'base64'),
        extendedMasterSecret: doc.ems,
        identity: doc.identity,
        createdAt: doc.at,
        ...(doc.rpk !== undefined ? { rpkDer: Buffer.from(doc.rpk, 'base64') } : {}),
        ...(doc.ownCid !== undefined ? { ownCid: Buffer.from(doc.ownCid, 'hex') } : {}),
        ...(doc.peerCid !== undefined ? { peerCid: Buffer.from(doc.peerCid, 'hex') } : {}),
        ...(doc.mfl !== undefined ? { maxFragment: doc.mfl } : {}),
      };
    } catch {
      return undefined;
    }
  }
}
