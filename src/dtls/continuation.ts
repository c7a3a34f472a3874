/**
 * Continuing, on this instance, a DTLS connection established on another (docs/dtls.md): a record
 * with an unknown connection ID, or a protected record from an address without a connection here,
 * is held while the shared store is asked; the connection is rebuilt from the stored session
 * (keys derived again), with its own block of write sequence numbers and a replay window above
 * the recorded read mark, and the held records go on. Lookups are bounded, and a miss is
 * remembered for a while, so that a stream of garbage cannot turn into a stream of Redis reads.
 */
import { cipherSuite } from './cipher-suites';
import { DtlsConnection } from './connection';
import type { DtlsRecord } from './record';
import { deriveKeys } from './record-protection';
import type { Established } from './server-handshake';
import { WRITE_BLOCK, type SharedSession, type SharedSessionStore } from './shared-sessions';
import type { Peer } from '../transport/types';
import { errorMessage } from '../common/error-message';

const MAX_HELD_PER_KEY = 16;
const MAX_LOOKUPS = 1000;
const MISS_MEMORY_MS = 2000;

export function establishedFrom(s: SharedSession): Established | undefined {
  const suite = cipherSuite(s.suite);
  if (suite === undefined) return undefined;
  return {
    suite,
    keys: deriveKeys(suite, s.master, s.clientRandom, s.serverRandom),
    master: s.master,
    clientRandom: s.clientRandom,
    serverRandom: s.serverRandom,
    sessionId: s.sessionId,
    extendedMasterSecret: s.extendedMasterSecret,
    identity: s.identity,
    resumed: false,
    ...(s.rpkDer !== undefined ? { rpkDer: s.rpkDer } : {}),
    ...(s.ownCid !== undefined ? { ownCid: s.ownCid } : {}),
    ...(s.peerCid !== undefined ? { peerCid: s.peerCid } : {}),
    ...(s.maxFragment !== undefined ? { maxFragment: s.maxFragment } : {}),
  };
}

export function sharedSessionOf(p: Established): SharedSession {
  return {
    sessionId: p.sessionId,
    suite: p.suite.id,
    master: p.master,
    clientRandom: p.clientRandom,
    serverRandom: p.serverRandom,
    extendedMasterSecret: p.extendedMasterSecret,
    identity: p.identity,
    createdAt: Date.now(),
    ...(p.rpkDer !== undefined ? { rpkDer: p.rpkDer } : {}),
    ...(p.ownCid !== undefined ? { ownCid: p.ownCid } : {}),
    ...(p.peerCid !== undefined ? { peerCid: p.peerCid } : {}),
    ...(p.maxFragment !== undefined ? { maxFragment: p.maxFragment } : {}),
  };
}

export interface ContinuationHooks {
  /** A connection was rebuilt: register it, then handle the records held for it. */
  readonly resumed: (c: DtlsConnection, held: ReadonlyArray<{ record: DtlsRecord; peer: Peer }>) => void;
  /** Nothing to continue (or the store failed): the held records are dropped with this reason. */
  readonly missed: (held: ReadonlyArray<{ record: DtlsRecord; peer: Peer }>, reason: string) => void;
}

export class Continuations {
  private readonly held = new Map<string, Array<{ record: DtlsRecord; peer: Peer }>>();
  private readonly misses = new Map<string, number>();

  constructor(
    private readonly store: SharedSessionStore,
    private readonly hooks: ContinuationHooks,
    private readonly now: () => number = Date.now,
  ) {}

  /** Holds a record under `key` ("cid:…" or "peer:…") and looks its connection up once. */
  hold(key: string, lookup: () => Promise<SharedSession | undefined>, record: DtlsRecord, peer: Peer): void {
    const missedAt = this.misses.get(key);
    if (missedAt !== undefined && this.now() - missedAt < MISS_MEMORY_MS)
      return this.hooks.missed([{ record, peer }], 'no connection here, nor in the shared store (recently looked up)');
    const waiting = this.held.get(key);
    if (waiting !== undefined) {
      if (waiting.length < MAX_HELD_PER_KEY) waiting.push({ record, peer });
      return;
    }
    if (this.held.size >= MAX_LOOKUPS)
      return this.hooks.missed([{ record, peer }], 'too many shared-store lookups in progress');
    this.held.set(key, [{ record, peer }]);
    this.continueFrom(key, lookup, peer).catch((err: unknown) =>
      this.finish(key, undefined, `shared store: ${errorMessage(err)}`),
    );
  }

  private async continueFrom(key: string, lookup: () => Promise<SharedSession | undefined>, peer: Peer): Promise<void> {
    const session = await lookup();
    const params = session === undefined ? undefined : establishedFrom(session);
    if (session === undefined || params === undefined)
      return this.finish(key, undefined, 'no connection here, nor in the shared store');
    const [start, floor] = await Promise.all([
      this.store.reserveWrites(session.sessionId),
      this.store.readMark(session.sessionId),
    ]);
    const c = new DtlsConnection(params, peer, [], 0, { next: start, end: start + WRITE_BLOCK }, floor);
    this.finish(key, c, '');
  }

  private finish(key: string, c: DtlsConnection | undefined, reason: string): void {
    const held = this.held.get(key) ?? [];
    this.held.delete(key);
    if (c === undefined) {
      this.misses.set(key, this.now());
      if (this.misses.size > 100_000) this.misses.clear();
      return this.hooks.missed(held, reason);
    }
    this.misses.delete(key);
    this.hooks.resumed(c, held);
  }
}
