/**
 * DTLS connection state shared between instances (docs/dtls.md, "Established sessions"): what
 * another instance needs to continue a connection without a new handshake when the balancer
 * moves the device, found by connection ID (RFC 9146), by the device's address, or by session
 * ID (resumption). Keys are not stored: they are derived again from the master secret and both
 * randoms. Write sequence numbers are handed out in blocks, so that two instances never protect
 * two records with one nonce; the highest authenticated read sequence number is recorded now and
 * then, and an instance taking over accepts only records above it.
 */
import type { StoredSession } from './resumption-cache';

export interface SharedSession extends StoredSession {
  readonly clientRandom: Buffer;
  readonly serverRandom: Buffer;
  /** The CID the client puts in its records to the server, and the one the server puts in its own. */
  readonly ownCid?: Buffer;
  readonly peerCid?: Buffer;
  readonly maxFragment?: number;
}

/** Write sequence numbers reserved at a time by one instance. */
export const WRITE_BLOCK = 1 << 20;

export interface SharedSessionStore {
  /** The session of a session ID (resumption on any instance). */
  get(sessionId: Buffer): Promise<SharedSession | undefined>;
  /**
   * Saves an established connection, found from now on by its session ID, its CID and `peer`;
   * the first block of write sequence numbers, [0, WRITE_BLOCK), belongs to the caller.
   */
  save(session: SharedSession, peer: string): Promise<void>;
  byCid(cid: Buffer): Promise<SharedSession | undefined>;
  byPeer(peer: string): Promise<SharedSession | undefined>;
  /** The connection's device now sends from `peer`. */
  moved(sessionId: Buffer, peer: string): Promise<void>;
  /** Reserves WRITE_BLOCK write sequence numbers; returns the first. */
  reserveWrites(sessionId: Buffer): Promise<number>;
  /** Highest read sequence number recorded (-1: none). */
  readMark(sessionId: Buffer): Promise<number>;
  markRead(sessionId: Buffer, sequence: number): Promise<void>;
}

/** In one process (tests, and two engines sharing memory). */
export class MemorySharedSessionStore implements SharedSessionStore {
  private readonly sessions = new Map<string, { session: SharedSession; writes: number; read: number }>();
  private readonly byCidIndex = new Map<string, string>();
  private readonly byPeerIndex = new Map<string, string>();

  async save(session: SharedSession, peer: string): Promise<void> {
    const id = session.sessionId.toString('hex');
    this.sessions.set(id, { session, writes: WRITE_BLOCK, read: -1 });
    if (session.ownCid !== undefined) this.byCidIndex.set(session.ownCid.toString('hex'), id);
    this.byPeerIndex.set(peer, id);
  }

  async get(sessionId: Buffer): Promise<SharedSession | undefined> {
    return this.sessions.get(sessionId.toString('hex'))?.session;
  }

  async byCid(cid: Buffer): Promise<SharedSession | undefined> {
    const id = this.byCidIndex.get(cid.toString('hex'));
    return id === undefined ? undefined : this.sessions.get(id)?.session;
  }

  async byPeer(peer: string): Promise<SharedSession | undefined> {
    const id = this.byPeerIndex.get(peer);
    return id === undefined ? undefined : this.sessions.get(id)?.session;
  }

  async moved(sessionId: Buffer, peer: string): Promise<void> {
    this.byPeerIndex.set(peer, sessionId.toString('hex'));
  }

  async reserveWrites(sessionId: Buffer): Promise<number> {
    const s = this.sessions.get(sessionId.toString('hex'));
    if (s === undefined) throw new Error('unknown session');
    const start = s.writes;
    s.writes += WRITE_BLOCK;
    return start;
  }

  async readMark(sessionId: Buffer): Promise<number> {
    return this.sessions.get(sessionId.toString('hex'))?.read ?? -1;
  }

  async markRead(sessionId: Buffer, sequence: number): Promise<void> {
    const s = this.sessions.get(sessionId.toString('hex'));
    if (s !== undefined) s.read = Math.max(s.read, sequence);
  }
}
