/**
 * The DTLS 1.2 server engine (RFC 6347): datagrams in, datagrams out, plaintext delivered per
 * peer. No sockets: the transport (src/dtls/dtls-transport.ts) gives it datagrams and sends
 * what it returns.
 *
 * - A ClientHello without a valid cookie is answered with a HelloVerifyRequest and leaves no
 *   state behind (§4.2.1): a flood of spoofed ClientHellos allocates nothing.
 * - A handshake runs per peer address; its flight is retransmitted on a doubling timer
 *   (§4.2.4.1) and when the client repeats its flight. The client's last flight repeated after
 *   the handshake gets the server's last flight again.
 * - Records with a connection ID (RFC 9146) find their connection by that ID whatever their
 *   source address; an authentic record newer than any before moves the connection to its
 *   address (§6, NAT rebinding).
 * - A record that does not frame, authenticate, or fit the state is dropped and counted.
 */
import { peerKey, type Peer } from '../transport/types';
import { AlertDescription, AlertLevel, alertBody } from './alert';
import { DtlsConnection } from './connection';
import { CookieJar } from './cookie';
import { summarize, type DropKind, type DtlsEvent } from './dtls-events';
import { flightDatagrams, type FlightItem, type RecordWriter } from './flight';
import { Handshakes } from './handshakes';
import { ContentType, parseRecords, type DtlsRecord } from './record';
import type { Established, HandshakeCredentials } from './server-handshake';
import type { ServerIdentity } from './server-identity';
import { MemoryResumptionCache, type ResumptionCache } from './resumption-cache';
import { SharedConnections } from './shared-connections';
import { WRITE_BLOCK, type SharedSessionStore } from './shared-sessions';
import type { X509Certificate } from 'node:crypto';
import { errorMessage } from '../common/error-message';

export type { DropKind, DtlsEvent, SessionSummary } from './dtls-events';

export interface DtlsServerOptions {
  readonly credentials: HandshakeCredentials;
  /** The server's EC key (and certificate) for the ECDHE_ECDSA suites; PSK only without it. */
  readonly serverIdentity?: ServerIdentity;
  /** Trust anchors for client certificates. */
  readonly trustAnchors?: readonly X509Certificate[];
  /** The clock certificates are checked against (default: now). */
  readonly now?: () => Date;
  /** Sessions kept for resumption without a shared store (default: in memory). */
  readonly sessions?: ResumptionCache;
  /** Connection state shared with the other instances: connections continue wherever records arrive. */
  readonly shared?: SharedSessionStore;
  /**
   * A connection without an authentic record for this long is forgotten (its device then resumes,
   * makes a new handshake, or is continued from the shared store). Default 1 hour.
   */
  readonly idleMs?: number;
  /** Connections kept at most; beyond, the least recently established are forgotten first. Default 500,000. */
  readonly maxConnections?: number;
  readonly send: (datagram: Buffer, peer: Peer) => void;
  /** Application data of an established connection, with who sent it. */
  readonly deliver: (data: Buffer, peer: Peer, connection: DtlsConnection) => void;
  readonly onEvent?: (e: DtlsEvent) => void;
  readonly cookies?: CookieJar;
  /** Length of the connection IDs issued (RFC 9146); 0 issues none. Default 6. */
  readonly cidLength?: number;
  /** First retransmission timeout of a flight (§4.2.4.1: 1 s), doubled up to 60 s. */
  readonly retransmitMs?: number;
  readonly maxRetransmits?: number;
  readonly maxDatagram?: number;
  /** Handshakes in progress at most (beyond it, ClientHellos with a valid cookie are ignored). */
  readonly maxHandshakes?: number;
  /** Asked before a cookie-verified ClientHello starts a handshake; false drops it (rate limit). */
  readonly admitHandshake?: (peer: Peer) => boolean;
}

export class DtlsServer {
  private readonly handshakes: Handshakes;
  private readonly connections = new Map<string, DtlsConnection>();
  private readonly byCid = new Map<string, DtlsConnection>();
  /** Resumption without a shared store; with one, sessions are found through it. */
  private readonly sessions: ResumptionCache;
  /** Set with a shared store: connections continue on any instance. */
  private readonly shared: SharedConnections | undefined;
  private readonly sweeper: NodeJS.Timeout;
  private readonly cidLength: number;

  constructor(private readonly opts: DtlsServerOptions) {
    this.sweeper = setInterval(() => this.forgetIdle(Date.now()), Math.min(60_000, opts.idleMs ?? 3_600_000));
    this.sweeper.unref();
    this.sessions = opts.sessions ?? new MemoryResumptionCache();
    this.shared =
      opts.shared === undefined
        ? undefined
        : new SharedConnections(opts.shared, {
            continued: (c, held) => {
              this.register(c);
              this.opts.onEvent?.({ type: 'continued', peer: c.peer, session: summarize(c.params) });
              for (const { record, peer } of held) this.connectionRecord(c, record, peer);
            },
            missed: (peer, reason) => this.drop(peer, 'no-connection', reason),
            event: (e) => this.opts.onEvent?.(e),
          });
    this.cidLength = opts.cidLength ?? 6;
    this.handshakes = new Handshakes(
      {
        credentials: opts.credentials,
        cidLength: this.cidLength,
        cookies: opts.cookies ?? new CookieJar(),
        session: (id) => (this.shared !== undefined ? this.shared.session(id) : this.sessions.get(id)),
        ...(opts.serverIdentity !== undefined ? { serverIdentity: opts.serverIdentity } : {}),
        ...(opts.trustAnchors !== undefined ? { trustAnchors: opts.trustAnchors } : {}),
        ...(opts.now !== undefined ? { now: opts.now } : {}),
        ...(opts.retransmitMs !== undefined ? { retransmitMs: opts.retransmitMs } : {}),
        ...(opts.maxRetransmits !== undefined ? { maxRetransmits: opts.maxRetransmits } : {}),
        ...(opts.maxHandshakes !== undefined ? { maxHandshakes: opts.maxHandshakes } : {}),
        ...(opts.admitHandshake !== undefined ? { admitHandshake: opts.admitHandshake } : {}),
      },
      {
        send: (d, p) => opts.send(d, p),
        sendFlight: (items, w, p) => this.sendFlight(items, w, p),
        connection: (p) => this.connection(p),
        connectionRecord: (c, r, p) => this.connectionRecord(c, r, p),
        established: (params, peer, last, seqs) => this.established(params, peer, last, seqs),
        drop: (p, kind, reason) => this.drop(p, kind, reason),
        event: (e) => this.opts.onEvent?.(e),
      },
    );
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get handshakeCount(): number {
    return this.handshakes.size;
  }

  connection(peer: Peer): DtlsConnection | undefined {
    return this.connections.get(peerKey(peer));
  }

  /** Sends application data to a peer's connection; false when there is none or it cannot carry it. */
  send(data: Buffer, peer: Peer): boolean {
    return this.trySend(data, peer) === 'sent';
  }

  /** Sends application data through a peer's connection, saying why not when it did not. */
  trySend(data: Buffer, peer: Peer): 'sent' | 'no-connection' | 'unsendable' {
    const c = this.connections.get(peerKey(peer));
    if (c === undefined) return 'no-connection';
    // One CoAP message is one record: a message over the agreed max_fragment_length (RFC 6066 §4)
    // cannot be sent (COAP_BLOCK_SIZE must fit it).
    if (data.length > c.maxFragment()) return 'unsendable';
    let record: Buffer;
    try {
      record = c.seal(ContentType.APPLICATION_DATA, data);
    } catch {
      return 'unsendable'; // no write sequence number left until the next block is reserved
    }
    this.opts.send(record, c.peer);
    this.shared?.afterSend(c);
    return 'sent';
  }

  private register(c: DtlsConnection): void {
    // Bounded: the oldest established connection goes first (Map order is insertion order).
    while (this.connections.size >= (this.opts.maxConnections ?? 500_000)) {
      const oldest = this.connections.values().next().value as DtlsConnection;
      this.closeConnection(oldest, false);
    }
    this.connections.set(peerKey(c.peer), c);
    if (c.params.ownCid !== undefined) this.byCid.set(c.params.ownCid.toString('hex'), c);
  }

  receive(datagram: Buffer, peer: Peer): void {
    const { records, error } = parseRecords(datagram, this.cidLength);
    for (const r of records) this.record(r, peer);
    if (error !== undefined) this.drop(peer, 'malformed', error.message);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.handshakes.close();
  }

  /** Forgets connections idle for longer than `idleMs` (swept every minute at most). */
  forgetIdle(now: number): void {
    const idleMs = this.opts.idleMs ?? 3_600_000;
    for (const c of new Set(this.connections.values())) if (now - c.lastSeen > idleMs) this.closeConnection(c, false);
  }

  private record(r: DtlsRecord, peer: Peer): void {
    if (r.cid !== undefined) return this.cidRecord(r, peer);
    if (r.epoch === 0) {
      if (r.type === ContentType.HANDSHAKE) return this.handshakes.plain(r, peer);
      if (this.handshakes.other(r, peer)) return;
      return this.drop(peer, 'unexpected', `epoch-0 record of type ${r.type} outside a handshake`);
    }
    // An epoch-1 record of a handshake in progress (its Finished); none is in progress most of the time.
    if (this.handshakes.size > 0 && this.handshakes.protected(r, peer)) return;
    const key = peerKey(peer);
    const c = this.connections.get(key);
    if (c !== undefined) return this.connectionRecord(c, r, peer);
    if (this.shared !== undefined) return this.shared.continueByPeer(key, r, peer);
    this.drop(peer, 'no-connection', `epoch-${r.epoch} record from a peer without a connection`);
  }

  private cidRecord(r: DtlsRecord, peer: Peer): void {
    const c = this.byCid.get((r.cid as Buffer).toString('hex'));
    if (c !== undefined) return this.connectionRecord(c, r, peer);
    if (this.handshakes.withCid(r, peer)) return;
    if (this.shared !== undefined) return this.shared.continueByCid(r.cid as Buffer, r, peer);
    this.drop(peer, 'no-connection', 'record with an unknown connection ID');
  }

  private connectionRecord(c: DtlsConnection, r: DtlsRecord, peer: Peer): void {
    const opened = c.open(r);
    if (opened === undefined) return this.drop(peer, 'unauthentic', 'record replayed or not authentic');
    if (opened.newest && (peer.port !== c.peer.port || peer.address !== c.peer.address)) this.move(c, peer);
    this.shared?.afterRead(c);
    if (opened.type === ContentType.APPLICATION_DATA) return this.opts.deliver(opened.content, c.peer, c);
    if (opened.type === ContentType.ALERT) {
      if (opened.content[1] === AlertDescription.CLOSE_NOTIFY || opened.content[0] === AlertLevel.FATAL)
        this.closeConnection(c, true);
      return;
    }
    // The client repeats its Finished: our last flight was lost (§4.2.4).
    if (opened.type === ContentType.HANDSHAKE) return this.sendFlight(c.lastFlight, c, c.peer);
  }

  private move(c: DtlsConnection, to: Peer): void {
    const fromKey = peerKey(c.peer);
    if (this.connections.get(fromKey) === c) this.connections.delete(fromKey);
    c.peer = to;
    this.connections.set(peerKey(to), c);
    this.shared?.moved(c, peerKey(to));
  }

  /** A finished handshake becomes the peer's connection (replacing one it had). */
  private established(
    params: Established,
    peer: Peer,
    last: FlightItem[],
    seqs: { readonly epoch0: number; readonly epoch1: number },
  ): void {
    const old = this.connections.get(peerKey(peer));
    if (old !== undefined) this.closeConnection(old, false);
    // Sequence numbers go on from the handshake's: a resumed handshake already sent its Finished in
    // epoch 1, and a number used twice under one key would repeat an AEAD nonce.
    // With a shared store, this instance owns the first block of the connection's numbers.
    const c = new DtlsConnection(params, peer, last, seqs.epoch0, {
      next: seqs.epoch1,
      end: this.shared !== undefined ? WRITE_BLOCK : Number.MAX_SAFE_INTEGER,
    });
    this.register(c);
    this.sendFlight(last, c, peer);
    if (this.shared !== undefined) this.shared.save(params, peer, peerKey(peer));
    else if (!params.resumed) {
      const stored = {
        sessionId: params.sessionId,
        suite: params.suite.id,
        master: params.master,
        extendedMasterSecret: params.extendedMasterSecret,
        identity: params.identity,
        createdAt: Date.now(),
        ...(params.rpkDer !== undefined ? { rpkDer: params.rpkDer } : {}),
      };
      this.sessions
        .put(stored)
        .catch((err: unknown) =>
          this.opts.onEvent?.({ type: 'store-failed', peer, reason: `session not stored: ${errorMessage(err)}` }),
        );
    }
  }

  private sendFlight(items: readonly FlightItem[], w: RecordWriter, peer: Peer): void {
    for (const d of flightDatagrams(items, w, this.opts.maxDatagram ?? 1400)) this.opts.send(d, peer);
  }

  private closeConnection(c: DtlsConnection, notify: boolean): void {
    if (notify && c.writesLeft > 0)
      this.opts.send(c.seal(ContentType.ALERT, alertBody(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)), c.peer);
    const key = peerKey(c.peer);
    if (this.connections.get(key) === c) this.connections.delete(key);
    if (c.params.ownCid !== undefined) this.byCid.delete(c.params.ownCid.toString('hex'));
    this.opts.onEvent?.({ type: 'closed', peer: c.peer, endpoint: c.params.identity.endpoint });
  }

  private drop(peer: Peer, kind: DropKind, reason: string): void {
    this.opts.onEvent?.({ type: 'dropped', peer, kind, reason });
  }
}
