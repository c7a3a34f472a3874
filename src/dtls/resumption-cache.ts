/**
 * Sessions kept for resumption by session ID (RFC 5246 §7.3, the abbreviated handshake): what a
 * new connection of the same session needs (suite, master secret, extended-master-secret flag,
 * the identity and what re-checks it). Memory here, bounded and expiring; the port lets a shared
 * store take its place.
 */
import type { PeerIdentity } from '../transport/types';

export interface StoredSession {
  readonly sessionId: Buffer;
  readonly suite: number;
  readonly master: Buffer;
  readonly extendedMasterSecret: boolean;
  readonly identity: PeerIdentity;
  /** The client's raw public key, for a raw-public-key session (its credential is re-checked by it). */
  readonly rpkDer?: Buffer;
  readonly createdAt: number;
}

export interface ResumptionCache {
  get(sessionId: Buffer): Promise<StoredSession | undefined>;
  put(session: StoredSession): Promise<void>;
}

export class MemoryResumptionCache implements ResumptionCache {
  private readonly sessions = new Map<string, StoredSession>();

  constructor(
    private readonly maxSessions = 100_000,
    /** How long a session may be resumed after its full handshake. */
    private readonly ttlMs = 24 * 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(sessionId: Buffer): Promise<StoredSession | undefined> {
    const key = sessionId.toString('hex');
    const s = this.sessions.get(key);
    if (s === undefined) return undefined;
    if (this.now() - s.createdAt > this.ttlMs) {
      this.sessions.delete(key);
      return undefined;
    }
    return s;
  }

  async put(session: StoredSession): Promise<void> {
    const key = session.sessionId.toString('hex');
    this.sessions.delete(key);
    this.sessions.set(key, session);
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
  }
}
