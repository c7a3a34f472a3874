/**
 * The DTLS 1.2 server engine (RFC 6347): datagrams in, datagrams out, plaintext delivered per
 * peer. No sockets: the transport (src/transport/dtls-transport.ts) gives it datagrams and sends
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
import { DtlsDecodeError, DtlsHandshakeError } from '../errors';
import { peerKey, type Peer } from '../transport/types';
import { AlertDescription, AlertLevel, alertBody, alertName } from './alert';
import { DtlsConnection } from './connection';
import { CookieJar } from './cookie';
import { flightDatagrams, type FlightItem, type RecordWriter } from './flight';
import { parseClientHello, type ClientHello } from './handshake/client-hello';
import { ExtensionType } from './handshake/extensions';
import { MemorySessionCache, type SessionCache, type StoredSession } from './session-cache';
import { WRITE_BLOCK, type SharedSessionStore } from './shared-sessions';
import { Continuations, sharedSessionOf } from './continuation';
import { HandshakeType, parseHandshakeFragments, encodeHandshake } from './handshake/header';
import { HandshakeReassembler } from './handshake/reassembly';
import { helloVerifyRequest } from './handshake/server-hello';
import { ContentType, encodeRecord, parseRecords, type DtlsRecord } from './record';
import { RecordProtection } from './record-protection';
import { ServerHandshake, type HandshakeCredentials } from './server-handshake';
import type { ServerIdentity } from './server-identity';
import type { X509Certificate } from 'node:crypto';
import { summarize, type DropKind, type DtlsEvent } from './dtls-events';

export type { DropKind, DtlsEvent, SessionSummary } from './dtls-events';

export interface DtlsServerOptions {
  readonly credentials: HandshakeCredentials;
  /** The server's EC key (and certificate) for the ECDHE_ECDSA suites; PSK only without it. */
  readonly serverIdentity?: ServerIdentity;
  /** Trust anchors for client certificates. */
  readonly trustAnchors?: readonly X509Certificate[];
  /** The clock certificates are checked against (default: now). */
  readonly now?: () => Date;
  /** Sessions kept for resumption (default: the shared store, else in memory). */
  readonly sessions?: SessionCache;
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
}

interface Handshaking extends RecordWriter {
  readonly hs: ServerHandshake;
  readonly peer: Peer;
  readonly reassembler: HandshakeReassembler;
  readonly clientRandom: Buffer;
  readEpoch: number;
  /** Epoch-1 records that came before the client's ChangeCipherSpec. */
  readonly early: DtlsRecord[];
  ccsSeen: boolean;
  flight: FlightItem[];
  timer: NodeJS.Timeout | undefined;
  retransmits: number;
  chain: Promise<void>;
}

const MAX_EARLY_RECORDS = 8;

export class DtlsServer {
  private readonly handshakes = new Map<string, Handshaking>();
  private readonly connections = new Map<string, DtlsConnection>();
  private readonly byCid = new Map<string, DtlsConnection>();
  private readonly cookies: CookieJar;
  private readonly sessions: SessionCache;
  /** Peers whose ClientHello is being looked up (resumption) before its handshake starts. */
  private readonly starting = new Set<string>();
  private readonly continuations: Continuations | undefined;
  /** Connections whose next block of write sequence numbers is being reserved. */
  private readonly reserving = new Set<DtlsConnection>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly cidLength: number;

  constructor(private readonly opts: DtlsServerOptions) {
    this.sweeper = setInterval(() => this.forgetIdle(Date.now()), Math.min(60_000, opts.idleMs ?? 3_600_000));
    this.sweeper.unref();
    this.cookies = opts.cookies ?? new CookieJar();
    this.sessions = opts.sessions ?? opts.shared ?? new MemorySessionCache();
    const shared = opts.shared;
    this.continuations =
      shared === undefined
        ? undefined
        : new Continuations(shared, {
            resumed: (c, held) => {
              this.register(c);
              this.opts.onEvent?.({ type: 'continued', peer: c.peer, session: summarize(c.params) });
              for (const { record, peer } of held) this.connectionRecord(c, record, peer);
            },
            missed: (held, reason) => {
              for (const { peer } of held) this.drop(peer, 'no-connection', reason);
            },
          });
    this.cidLength = opts.cidLength ?? 6;
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

  /** Sends application data to a peer's connection; false when there is none. */
  send(data: Buffer, peer: Peer): boolean {
    const c = this.connections.get(peerKey(peer));
    // One CoAP message is one record: a message over the agreed max_fragment_length (RFC 6066 §4)
    // cannot be sent (COAP_BLOCK_SIZE must fit it).
    if (c === undefined || data.length > c.maxFragment()) return false;
    let record: Buffer;
    try {
      record = c.seal(ContentType.APPLICATION_DATA, data);
    } catch {
      return false; // no write sequence number left until the next block is reserved
    }
    this.opts.send(record, c.peer);
    this.reserveAhead(c);
    return true;
  }

  /** Reserves the next block of write sequence numbers before the current one runs out. */
  private reserveAhead(c: DtlsConnection): void {
    const shared = this.opts.shared;
    if (shared === undefined || c.nextRange !== undefined || c.writesLeft > WRITE_BLOCK / 8 || this.reserving.has(c)) return;
    this.reserving.add(c);
    shared
      .reserveWrites(c.params.sessionId)
      .then((start) => void (c.nextRange = { next: start, end: start + WRITE_BLOCK }))
      .catch((err: unknown) => this.opts.onEvent?.({ type: 'store-failed', peer: c.peer, reason: `write sequence numbers not reserved: ${err instanceof Error ? err.message : String(err)}` }))
      .finally(() => this.reserving.delete(c));
  }

  /** Records the highest authenticated read sequence number, at most every second or 100 records. */
  private markRead(c: DtlsConnection): void {
    const shared = this.opts.shared;
    if (shared === undefined) return;
    const top = c.window.highest;
    const now = Date.now();
    if (top <= c.markedRead || (top - c.markedRead < 100 && now - c.markedAt < 1000)) return;
    c.markedRead = top;
    c.markedAt = now;
    shared.markRead(c.params.sessionId, top).catch((err: unknown) => this.opts.onEvent?.({ type: 'store-failed', peer: c.peer, reason: `read mark not recorded: ${err instanceof Error ? err.message : String(err)}` }));
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
    for (const h of this.handshakes.values()) clearTimeout(h.timer);
    this.handshakes.clear();
  }

  /** Forgets connections idle for longer than `idleMs` (swept every minute at most). */
  forgetIdle(now: number): void {
    const idleMs = this.opts.idleMs ?? 3_600_000;
    for (const c of new Set(this.connections.values())) if (now - c.lastSeen > idleMs) this.closeConnection(c, false);
  }

  private record(r: DtlsRecord, peer: Peer): void {
    const key = peerKey(peer);
    if (r.cid !== undefined) return this.cidRecord(r, peer);
    const h = this.handshakes.get(key);
    if (r.epoch === 0) {
      if (r.type === ContentType.HANDSHAKE) return this.plainHandshake(r, peer, h);
      // After the (asynchronous) key exchange before it, which shares the client's flight.
      if (r.type === ContentType.CHANGE_CIPHER_SPEC && h !== undefined) return this.queue(h, async () => this.changeCipherSpec(h, peer));
      if (r.type === ContentType.ALERT && h !== undefined) return this.endHandshake(h, `client alert ${alertName(r.fragment[1] ?? -1)}`);
      return this.drop(peer, 'unexpected', `epoch-0 record of type ${r.type} outside a handshake`);
    }
    if (h !== undefined) return this.queue(h, async () => this.protectedHandshake(h, r, peer));
    const c = this.connections.get(key);
    if (c !== undefined) return this.connectionRecord(c, r, peer);
    const shared = this.opts.shared;
    if (this.continuations !== undefined && shared !== undefined) return this.continuations.hold(`peer:${key}`, () => shared.byPeer(key), r, peer);
    this.drop(peer, 'no-connection', `epoch-${r.epoch} record from a peer without a connection`);
  }

  private cidRecord(r: DtlsRecord, peer: Peer): void {
    const c = this.byCid.get((r.cid as Buffer).toString('hex'));
    if (c !== undefined) return this.connectionRecord(c, r, peer);
    // The client's Finished already carries the CID issued in the ServerHello (RFC 9146 §3).
    const h = this.handshakes.get(peerKey(peer));
    if (h?.hs.ownCid !== undefined && h.hs.ownCid.equals(r.cid as Buffer)) return this.queue(h, async () => this.protectedHandshake(h, r, peer));
    const shared = this.opts.shared;
    const cid = r.cid as Buffer;
    if (this.continuations !== undefined && shared !== undefined) return this.continuations.hold(`cid:${cid.toString('hex')}`, () => shared.byCid(cid), r, peer);
    this.drop(peer, 'no-connection', 'record with an unknown connection ID');
  }

  private connectionRecord(c: DtlsConnection, r: DtlsRecord, peer: Peer): void {
    const opened = c.open(r);
    if (opened === undefined) return this.drop(peer, 'unauthentic', 'record replayed or not authentic');
    if (opened.newest && peerKey(peer) !== peerKey(c.peer)) this.move(c, peer);
    this.markRead(c);
    if (opened.type === ContentType.APPLICATION_DATA) return this.opts.deliver(opened.content, c.peer, c);
    if (opened.type === ContentType.ALERT) {
      if (opened.content[1] === AlertDescription.CLOSE_NOTIFY || opened.content[0] === AlertLevel.FATAL) this.closeConnection(c, true);
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
    this.opts.shared?.moved(c.params.sessionId, peerKey(to)).catch((err: unknown) => this.opts.onEvent?.({ type: 'store-failed', peer: to, reason: `new address not recorded: ${err instanceof Error ? err.message : String(err)}` }));
  }

  private plainHandshake(r: DtlsRecord, peer: Peer, h: Handshaking | undefined): void {
    let fragments;
    try {
      fragments = parseHandshakeFragments(r.fragment);
    } catch (err) {
      return this.drop(peer, 'malformed', (err as DtlsDecodeError).message);
    }
    const first = fragments[0];
    if (first?.type === HandshakeType.CLIENT_HELLO) return this.clientHello(r, first.messageSeq, first.body, first.length, peer, h);
    if (h === undefined) {
      // The client repeats its flight 5 after the handshake ended: send our last flight again.
      const c = this.connections.get(peerKey(peer));
      if (c !== undefined) return this.sendFlight(c.lastFlight, c, c.peer);
      return this.drop(peer, 'unexpected', 'handshake message outside a handshake');
    }
    for (const f of fragments) {
      try {
        const { messages, old } = h.reassembler.add(f);
        if (old) this.sendFlight(h.flight, h, peer);
        for (const m of messages) this.queue(h, () => this.onMessage(h, m));
      } catch (err) {
        return this.failHandshake(h, AlertDescription.DECODE_ERROR, (err as Error).message);
      }
    }
  }

  private clientHello(r: DtlsRecord, messageSeq: number, body: Buffer, length: number, peer: Peer, h: Handshaking | undefined): void {
    if (body.length !== length) return this.drop(peer, 'unexpected', 'fragmented ClientHello (not supported)');
    let hello;
    try {
      hello = parseClientHello(body);
    } catch (err) {
      return this.drop(peer, 'malformed', `ClientHello: ${(err as Error).message}`);
    }
    const key = peerKey(peer);
    if (!this.cookies.check(key, hello.cookieInput, hello.cookie)) {
      // Stateless (§4.2.1): the HelloVerifyRequest reuses the ClientHello's record sequence number.
      const hvr = encodeHandshake(HandshakeType.HELLO_VERIFY_REQUEST, messageSeq, helloVerifyRequest(this.cookies.make(key, hello.cookieInput)));
      this.opts.send(encodeRecord(ContentType.HANDSHAKE, 0, r.sequence, hvr, undefined, r.version), peer);
      return;
    }
    if (h !== undefined && h.clientRandom.equals(hello.random)) return this.sendFlight(h.flight, h, peer); // flight 3 repeated
    if (this.starting.has(key)) return; // its session is being looked up; the client will repeat
    if (h !== undefined) this.endHandshake(h, 'replaced by a new ClientHello');
    if (this.handshakes.size >= (this.opts.maxHandshakes ?? 10_000)) return this.drop(peer, 'overload', 'too many handshakes in progress');
    this.starting.add(key);
    void this.resumable(hello).then(
      (session) => this.startHandshake(r, messageSeq, body, hello, peer, session),
      (err: unknown) => this.alertAndReport(peer, err),
    ).finally(() => this.starting.delete(key));
  }

  /**
   * The stored session a ClientHello asks to resume, if it may be (RFC 5246 §7.4.1.2): known, its
   * suite offered again, the same extended-master-secret use (RFC 7627 §5.3), and its credential
   * still valid (a revoked one gets a full handshake, which then fails).
   */
  private async resumable(hello: ClientHello): Promise<StoredSession | undefined> {
    if (hello.sessionId.length === 0) return undefined;
    const s = await this.sessions.get(hello.sessionId);
    if (s === undefined || !hello.cipherSuites.includes(s.suite) || hello.extensions.has(ExtensionType.EXTENDED_MASTER_SECRET) !== s.extendedMasterSecret) return undefined;
    const c = this.opts.credentials;
    const still = s.identity.mode === 'psk' ? await c.psk(s.identity.name) : s.identity.mode === 'x509' ? await c.x509?.(s.identity.name) : s.rpkDer !== undefined ? await c.rpk?.(s.rpkDer) : undefined;
    return still?.endpoint === s.identity.endpoint ? s : undefined;
  }

  private startHandshake(r: DtlsRecord, messageSeq: number, body: Buffer, hello: ClientHello, peer: Peer, resume: StoredSession | undefined): void {
    const key = peerKey(peer);
    let hs: ServerHandshake;
    try {
      hs = new ServerHandshake(
        hello,
        messageSeq,
        body,
        {
          credentials: this.opts.credentials,
          cidLength: this.cidLength,
          ...(this.opts.serverIdentity !== undefined ? { serverIdentity: this.opts.serverIdentity } : {}),
          ...(this.opts.trustAnchors !== undefined ? { trustAnchors: this.opts.trustAnchors } : {}),
          ...(this.opts.now !== undefined ? { now: this.opts.now } : {}),
        },
        resume,
      );
    } catch (err) {
      return this.alertAndReport(peer, err);
    }
    const seqs = [r.sequence + 1, 0];
    const state: Handshaking = {
      hs,
      peer,
      reassembler: new HandshakeReassembler(messageSeq + 1),
      clientRandom: Buffer.from(hello.random),
      readEpoch: 0,
      early: [],
      ccsSeen: false,
      flight: hs.firstFlight(),
      timer: undefined,
      retransmits: 0,
      chain: Promise.resolve(),
      nextSequence: (epoch) => (seqs[epoch] = (seqs[epoch] ?? 0) + 1) - 1,
      protection: () => (hs.keys !== undefined ? new RecordProtection(hs.suite, hs.keys.server) : undefined),
      peerCid: () => (hs.peerCid !== undefined && hs.peerCid.length > 0 ? hs.peerCid : undefined),
      maxFragment: () => hs.maxFragment ?? 16384,
    };
    this.handshakes.set(key, state);
    this.sendFlight(state.flight, state, peer);
    this.armTimer(state, this.opts.retransmitMs ?? 1000);
  }

  private protectedHandshake(h: Handshaking, r: DtlsRecord, peer: Peer): void {
    if (h.hs.finished || this.handshakes.get(peerKey(peer)) !== h) {
      // Queued behind the Finished that established the connection (or the handshake ended).
      const c = this.connections.get(peerKey(peer));
      return c !== undefined ? this.connectionRecord(c, r, peer) : this.drop(peer, 'no-connection', `epoch-${r.epoch} record from a peer without a connection`);
    }
    if (h.hs.keys === undefined || h.readEpoch !== 1) {
      // Reordered ahead of the ChangeCipherSpec: kept for it (RFC 6347 §4.1, next-epoch records may be buffered).
      if (h.early.length < MAX_EARLY_RECORDS) return void h.early.push(r);
      return this.drop(peer, 'unexpected', `epoch-${r.epoch} record before the client's ChangeCipherSpec`);
    }
    const opened = new RecordProtection(h.hs.suite, (h.hs.keys as NonNullable<ServerHandshake['keys']>).client).open(r);
    // The client's Finished does not decrypt: its key differs from ours (wrong PSK).
    if (opened === undefined) return this.failHandshake(h, AlertDescription.BAD_RECORD_MAC, 'the client\'s Finished does not authenticate (wrong key?)');
    if (opened.type !== ContentType.HANDSHAKE) return this.drop(h.peer, 'unexpected', `epoch-1 record of type ${opened.type} before the handshake finished`);
    let fragments;
    try {
      fragments = parseHandshakeFragments(opened.content);
    } catch (err) {
      return this.failHandshake(h, AlertDescription.DECODE_ERROR, (err as Error).message);
    }
    for (const f of fragments) {
      const { messages } = h.reassembler.add(f);
      for (const m of messages) this.queue(h, () => this.onMessage(h, m));
    }
  }

  private changeCipherSpec(h: Handshaking, peer: Peer): void {
    h.ccsSeen = true;
    if (h.hs.keys === undefined) return; // reordered ahead of the key exchange: applied once it is done
    h.readEpoch = 1;
    for (const r of h.early.splice(0)) this.protectedHandshake(h, r, peer);
  }

  private queue(h: Handshaking, step: () => Promise<void>): void {
    h.chain = h.chain.then(step);
  }

  private async onMessage(h: Handshaking, m: Parameters<ServerHandshake['onMessage']>[0]): Promise<void> {
    if (this.handshakes.get(peerKey(h.peer)) !== h) return;
    try {
      const last = await h.hs.onMessage(m);
      if (last === undefined) {
        if (h.ccsSeen && h.readEpoch === 0 && h.hs.keys !== undefined) this.changeCipherSpec(h, h.peer);
        return;
      }
      const params = h.hs.established();
      clearTimeout(h.timer);
      this.handshakes.delete(peerKey(h.peer));
      const old = this.connections.get(peerKey(h.peer));
      if (old !== undefined) this.closeConnection(old, false);
      // Sequence numbers go on from the handshake's: a resumed handshake already sent its Finished in
      // epoch 1, and a number used twice under one key would repeat an AEAD nonce.
      // With a shared store, this instance owns the first block of the connection's numbers.
      const c = new DtlsConnection(params, h.peer, last, h.nextSequence(0), { next: h.nextSequence(1), end: this.opts.shared !== undefined ? WRITE_BLOCK : Number.MAX_SAFE_INTEGER });
      this.register(c);
      this.sendFlight(last, c, h.peer);
      const storing =
        this.opts.shared !== undefined
          ? this.opts.shared.save(sharedSessionOf(params), peerKey(h.peer))
          : params.resumed
            ? Promise.resolve()
            : this.sessions.put({ sessionId: params.sessionId, suite: params.suite.id, master: params.master, extendedMasterSecret: params.extendedMasterSecret, identity: params.identity, createdAt: Date.now(), ...(params.rpkDer !== undefined ? { rpkDer: params.rpkDer } : {}) });
      storing.catch((err: unknown) => this.opts.onEvent?.({ type: 'store-failed', peer: h.peer, reason: `session not stored: ${err instanceof Error ? err.message : String(err)}` }));
      this.opts.onEvent?.({ type: 'handshake-done', peer: h.peer, session: summarize(params) });
    } catch (err) {
      if (err instanceof DtlsHandshakeError) return this.failHandshake(h, err.alert, err.message);
      this.failHandshake(h, AlertDescription.INTERNAL_ERROR, err instanceof Error ? err.message : String(err));
    }
  }

  private sendFlight(items: readonly FlightItem[], w: RecordWriter, peer: Peer): void {
    for (const d of flightDatagrams(items, w, this.opts.maxDatagram ?? 1400)) this.opts.send(d, peer);
  }

  private armTimer(h: Handshaking, ms: number): void {
    h.timer = setTimeout(() => {
      if (this.handshakes.get(peerKey(h.peer)) !== h || h.hs.finished) return;
      if (h.retransmits >= (this.opts.maxRetransmits ?? 6)) return this.endHandshake(h, 'no answer to our flight');
      h.retransmits++;
      this.sendFlight(h.flight, h, h.peer);
      this.armTimer(h, Math.min(ms * 2, 60_000));
    }, ms);
    h.timer.unref();
  }

  private failHandshake(h: Handshaking, alert: number, reason: string): void {
    this.sendAlert(h.peer, alert, h.nextSequence(0));
    this.endHandshake(h, reason, alert);
  }

  private alertAndReport(peer: Peer, err: unknown): void {
    const alert = err instanceof DtlsHandshakeError ? err.alert : AlertDescription.INTERNAL_ERROR;
    this.sendAlert(peer, alert);
    this.opts.onEvent?.({ type: 'handshake-failed', peer, alert: alertName(alert), reason: err instanceof Error ? err.message : String(err) });
  }

  private endHandshake(h: Handshaking, reason: string, alert?: number): void {
    clearTimeout(h.timer);
    if (this.handshakes.get(peerKey(h.peer)) === h) this.handshakes.delete(peerKey(h.peer));
    this.opts.onEvent?.({ type: 'handshake-failed', peer: h.peer, alert: alert !== undefined ? alertName(alert) : 'none', reason });
  }

  /** A fatal alert in epoch 0: during a handshake the server has not changed its cipher spec yet. */
  private sendAlert(peer: Peer, description: number, sequence = 0): void {
    this.opts.send(encodeRecord(ContentType.ALERT, 0, sequence, alertBody(AlertLevel.FATAL, description)), peer);
  }

  private closeConnection(c: DtlsConnection, notify: boolean): void {
    if (notify && c.writesLeft > 0) this.opts.send(c.seal(ContentType.ALERT, alertBody(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)), c.peer);
    const key = peerKey(c.peer);
    if (this.connections.get(key) === c) this.connections.delete(key);
    if (c.params.ownCid !== undefined) this.byCid.delete(c.params.ownCid.toString('hex'));
    this.opts.onEvent?.({ type: 'closed', peer: c.peer, endpoint: c.params.identity.endpoint });
  }

  private drop(peer: Peer, kind: DropKind, reason: string): void {
    this.opts.onEvent?.({ type: 'dropped', peer, kind, reason });
  }
}
