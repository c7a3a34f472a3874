/**
 * The engine's connections as the other instances share them (docs/dtls.md): saved when
 * established, continued from the store when a record arrives for a connection this instance
 * does not have (./continuation.ts), write sequence numbers reserved ahead in blocks, the read
 * mark recorded now and then, and the device's new address recorded when it moves.
 */
import type { Peer } from '../transport/types';
import type { DtlsConnection } from './connection';
import { Continuations, sharedSessionOf } from './continuation';
import type { DtlsEvent } from './dtls-events';
import type { DtlsRecord } from './record';
import type { Established } from './server-handshake';
import { WRITE_BLOCK, type SharedSession, type SharedSessionStore } from './shared-sessions';
import { errorMessage } from '../common/error-message';

export interface SharedConnectionHooks {
  /** A connection continued from the store: register it, then take the records held for it. */
  readonly continued: (c: DtlsConnection, held: ReadonlyArray<{ record: DtlsRecord; peer: Peer }>) => void;
  /** Records for which there is no connection, here or in the store. */
  readonly missed: (peer: Peer, reason: string) => void;
  readonly event: (e: DtlsEvent) => void;
}

const message = (err: unknown): string => errorMessage(err);

export class SharedConnections {
  private readonly continuations: Continuations;
  /** Connections whose next block of write sequence numbers is being reserved. */
  private readonly reserving = new Set<DtlsConnection>();

  constructor(
    private readonly store: SharedSessionStore,
    private readonly hooks: SharedConnectionHooks,
  ) {
    this.continuations = new Continuations(store, {
      resumed: (c, held) => hooks.continued(c, held),
      missed: (held, reason) => {
        for (const { peer } of held) hooks.missed(peer, reason);
      },
    });
  }

  /** The stored session of a session ID (resumption on any instance). */
  session(sessionId: Buffer): Promise<SharedSession | undefined> {
    return this.store.get(sessionId);
  }

  /** A protected record from an address without a connection here. */
  continueByPeer(key: string, record: DtlsRecord, peer: Peer): void {
    this.continuations.hold(`peer:${key}`, () => this.store.byPeer(key), record, peer);
  }

  /** A record with a connection ID this instance does not know. */
  continueByCid(cid: Buffer, record: DtlsRecord, peer: Peer): void {
    this.continuations.hold(`cid:${cid.toString('hex')}`, () => this.store.byCid(cid), record, peer);
  }

  /** An established connection, for the others to continue; this instance owns its first write block. */
  save(params: Established, peer: Peer, key: string): void {
    this.store
      .save(sharedSessionOf(params), key)
      .catch((err: unknown) => this.failed(peer, `session not stored: ${message(err)}`));
  }

  moved(c: DtlsConnection, key: string): void {
    this.store
      .moved(c.params.sessionId, key)
      .catch((err: unknown) => this.failed(c.peer, `new address not recorded: ${message(err)}`));
  }

  /** After a record was sealed: reserves the next block before the current one runs out. */
  afterSend(c: DtlsConnection): void {
    if (c.nextRange !== undefined || c.writesLeft > WRITE_BLOCK / 8 || this.reserving.has(c)) return;
    this.reserving.add(c);
    this.store
      .reserveWrites(c.params.sessionId)
      .then((start) => void (c.nextRange = { next: start, end: start + WRITE_BLOCK }))
      .catch((err: unknown) => this.failed(c.peer, `write sequence numbers not reserved: ${message(err)}`))
      .finally(() => this.reserving.delete(c));
  }

  /** After an authentic record: records the read mark, at most every second or 100 records. */
  afterRead(c: DtlsConnection): void {
    const top = c.window.highest;
    const now = Date.now();
    if (top <= c.markedRead || (top - c.markedRead < 100 && now - c.markedAt < 1000)) return;
    c.markedRead = top;
    c.markedAt = now;
    this.store
      .markRead(c.params.sessionId, top)
      .catch((err: unknown) => this.failed(c.peer, `read mark not recorded: ${message(err)}`));
  }

  private failed(peer: Peer, reason: string): void {
    this.hooks.event({ type: 'store-failed', peer, reason });
  }
}
