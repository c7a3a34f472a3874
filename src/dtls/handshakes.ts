/**
 * The handshakes in progress, one per peer address (RFC 6347 §4.2): ClientHellos (a stateless
 * HelloVerifyRequest first, §4.2.1; then resumption or a full handshake), the client's flights
 * reassembled and queued in order behind the asynchronous credential lookups, flights
 * retransmitted on a doubling timer (§4.2.4.1) and when the client repeats its own, next-epoch
 * records kept for a ChangeCipherSpec that comes late, and fatal alerts. A finished handshake is
 * handed to the host (./dtls-server.ts), which keeps the connection.
 */
import { type DtlsDecodeError, DtlsHandshakeError } from '../common/errors';
import { peerKey, type Peer } from '../transport/types';
import { AlertDescription, AlertLevel, alertBody, alertName } from './alert';
import type { DtlsConnection } from './connection';
import type { CookieJar } from './cookie';
import { summarize, type DropKind, type DtlsEvent } from './dtls-events';
import type { FlightItem, RecordWriter } from './flight';
import { parseClientHello, type ClientHello } from './handshake/client-hello';
import { ExtensionType } from './handshake/extensions';
import { encodeHandshake, HandshakeType, parseHandshakeFragments } from './handshake/header';
import { HandshakeReassembler } from './handshake/reassembly';
import { helloVerifyRequest } from './handshake/server-hello';
import { ContentType, encodeRecord, type DtlsRecord } from './record';
import { RecordProtection } from './record-protection';
import { ServerHandshake, type Established, type HandshakeOptions } from './server-handshake';
import type { StoredSession } from './resumption-cache';
import { errorMessage } from '../common/error-message';

export interface Handshaking extends RecordWriter {
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

export interface HandshakesOptions extends HandshakeOptions {
  readonly cookies: CookieJar;
  /** The stored session of a session ID (resumption), if any. */
  readonly session: (sessionId: Buffer) => Promise<StoredSession | undefined>;
  readonly retransmitMs?: number;
  readonly maxRetransmits?: number;
  readonly maxHandshakes?: number;
  /**
   * Asked before a ClientHello with a valid cookie starts a handshake (session lookup, key
   * exchange): false drops it (a per-source handshake rate, DESIGN invariant 5).
   */
  readonly admitHandshake?: (peer: Peer) => boolean;
}

/** What the handshakes need of the engine that keeps the connections. */
export interface HandshakeHost {
  send(datagram: Buffer, peer: Peer): void;
  sendFlight(items: readonly FlightItem[], w: RecordWriter, peer: Peer): void;
  connection(peer: Peer): DtlsConnection | undefined;
  connectionRecord(c: DtlsConnection, r: DtlsRecord, peer: Peer): void;
  /** A handshake finished: keep the connection (sequence numbers go on from the handshake's) and send `last`. */
  established(
    params: Established,
    peer: Peer,
    last: FlightItem[],
    sequences: { readonly epoch0: number; readonly epoch1: number },
  ): void;
  drop(peer: Peer, kind: DropKind, reason: string): void;
  event(e: DtlsEvent): void;
}

export class Handshakes {
  private readonly byPeer = new Map<string, Handshaking>();
  /** Peers whose ClientHello is being looked up (resumption) before its handshake starts. */
  private readonly starting = new Set<string>();

  constructor(
    private readonly o: HandshakesOptions,
    private readonly host: HandshakeHost,
  ) {}

  get size(): number {
    return this.byPeer.size;
  }

  close(): void {
    for (const h of this.byPeer.values()) clearTimeout(h.timer);
    this.byPeer.clear();
  }

  /**
   * An epoch-0 ChangeCipherSpec or alert from a peer with a handshake in progress; false when the
   * peer has none. The ChangeCipherSpec waits for the (asynchronous) key exchange before it.
   */
  other(r: DtlsRecord, peer: Peer): boolean {
    const h = this.byPeer.get(peerKey(peer));
    if (h === undefined) return false;
    if (r.type === ContentType.CHANGE_CIPHER_SPEC) this.queue(h, async () => this.changeCipherSpec(h, peer));
    else if (r.type === ContentType.ALERT) this.end(h, `client alert ${alertName(r.fragment[1] ?? -1)}`);
    else return false;
    return true;
  }

  /** A protected record from a peer with a handshake in progress (its Finished); false when it has none. */
  protected(r: DtlsRecord, peer: Peer): boolean {
    const h = this.byPeer.get(peerKey(peer));
    if (h === undefined) return false;
    this.queue(h, async () => this.protectedRecord(h, r, peer));
    return true;
  }

  /** A record with the CID this handshake issued: the client's Finished already carries it (RFC 9146 §3). */
  withCid(r: DtlsRecord, peer: Peer): boolean {
    const h = this.byPeer.get(peerKey(peer));
    if (h?.hs.ownCid === undefined || !h.hs.ownCid.equals(r.cid as Buffer)) return false;
    this.queue(h, async () => this.protectedRecord(h, r, peer));
    return true;
  }

  /** An epoch-0 handshake record: a ClientHello, or the next messages of a handshake in progress. */
  plain(r: DtlsRecord, peer: Peer): void {
    const h = this.byPeer.get(peerKey(peer));
    let fragments;
    try {
      fragments = parseHandshakeFragments(r.fragment);
    } catch (err) {
      return this.host.drop(peer, 'malformed', (err as DtlsDecodeError).message);
    }
    const first = fragments[0];
    if (first?.type === HandshakeType.CLIENT_HELLO)
      return this.clientHello(r, first.messageSeq, first.body, first.length, peer, h);
    if (h === undefined) {
      // The client repeats its flight 5 after the handshake ended: send our last flight again.
      const c = this.host.connection(peer);
      if (c !== undefined) return this.host.sendFlight(c.lastFlight, c, c.peer);
      return this.host.drop(peer, 'unexpected', 'handshake message outside a handshake');
    }
    for (const f of fragments) {
      try {
        const { messages, old } = h.reassembler.add(f);
        if (old) this.host.sendFlight(h.flight, h, peer);
        for (const m of messages) this.queue(h, () => this.onMessage(h, m));
      } catch (err) {
        return this.failHandshake(h, AlertDescription.DECODE_ERROR, (err as Error).message);
      }
    }
  }

  private clientHello(
    r: DtlsRecord,
    messageSeq: number,
    body: Buffer,
    length: number,
    peer: Peer,
    h: Handshaking | undefined,
  ): void {
    if (body.length !== length) return this.host.drop(peer, 'unexpected', 'fragmented ClientHello (not supported)');
    let hello;
    try {
      hello = parseClientHello(body);
    } catch (err) {
      return this.host.drop(peer, 'malformed', `ClientHello: ${(err as Error).message}`);
    }
    const key = peerKey(peer);
    if (!this.o.cookies.check(key, hello.cookieInput, hello.cookie)) {
      // Stateless (§4.2.1): the HelloVerifyRequest reuses the ClientHello's record sequence number.
      const hvr = encodeHandshake(
        HandshakeType.HELLO_VERIFY_REQUEST,
        messageSeq,
        helloVerifyRequest(this.o.cookies.make(key, hello.cookieInput)),
      );
      this.host.send(encodeRecord(ContentType.HANDSHAKE, 0, r.sequence, hvr, undefined, r.version), peer);
      return;
    }
    if (h !== undefined && h.clientRandom.equals(hello.random)) return this.host.sendFlight(h.flight, h, peer); // flight 3 repeated
    if (this.starting.has(key)) return; // its session is being looked up; the client will repeat
    if (this.o.admitHandshake !== undefined && !this.o.admitHandshake(peer))
      return this.host.drop(peer, 'rate-limited', 'ClientHello over its source address handshake rate');
    if (h !== undefined) this.end(h, 'replaced by a new ClientHello');
    if (this.byPeer.size >= (this.o.maxHandshakes ?? 10_000))
      return this.host.drop(peer, 'overload', 'too many handshakes in progress');
    this.starting.add(key);
    void this.resumable(hello)
      .then(
        (session) => this.startHandshake(r, messageSeq, body, hello, peer, session),
        (err: unknown) => this.alertAndReport(peer, err),
      )
      .finally(() => this.starting.delete(key));
  }

  /**
   * The stored session a ClientHello asks to resume, if it may be (RFC 5246 §7.4.1.2): known, its
   * suite offered again, the same extended-master-secret use (RFC 7627 §5.3), and its credential
   * still valid (a revoked one gets a full handshake, which then fails).
   */
  private async resumable(hello: ClientHello): Promise<StoredSession | undefined> {
    if (hello.sessionId.length === 0) return undefined;
    const s = await this.o.session(hello.sessionId);
    if (
      s === undefined ||
      !hello.cipherSuites.includes(s.suite) ||
      hello.extensions.has(ExtensionType.EXTENDED_MASTER_SECRET) !== s.extendedMasterSecret
    )
      return undefined;
    const c = this.o.credentials;
    const still =
      s.identity.mode === 'psk'
        ? await c.psk(s.identity.name)
        : s.identity.mode === 'x509'
          ? await c.x509?.(s.identity.name)
          : s.rpkDer !== undefined
            ? await c.rpk?.(s.rpkDer)
            : undefined;
    return still?.endpoint === s.identity.endpoint ? s : undefined;
  }

  private startHandshake(
    r: DtlsRecord,
    messageSeq: number,
    body: Buffer,
    hello: ClientHello,
    peer: Peer,
    resume: StoredSession | undefined,
  ): void {
    const key = peerKey(peer);
    let hs: ServerHandshake;
    try {
      hs = new ServerHandshake(hello, messageSeq, body, this.o, resume);
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
    this.byPeer.set(key, state);
    this.host.sendFlight(state.flight, state, peer);
    this.armTimer(state, this.o.retransmitMs ?? 1000);
  }

  private protectedRecord(h: Handshaking, r: DtlsRecord, peer: Peer): void {
    if (h.hs.finished || this.byPeer.get(peerKey(peer)) !== h) {
      // Queued behind the Finished that established the connection (or the handshake ended).
      const c = this.host.connection(peer);
      return c !== undefined
        ? this.host.connectionRecord(c, r, peer)
        : this.host.drop(peer, 'no-connection', `epoch-${r.epoch} record from a peer without a connection`);
    }
    if (h.hs.keys === undefined || h.readEpoch !== 1) {
      // Reordered ahead of the ChangeCipherSpec: kept for it (RFC 6347 §4.1, next-epoch records may be buffered).
      if (h.early.length < MAX_EARLY_RECORDS) return void h.early.push(r);
      return this.host.drop(peer, 'unexpected', `epoch-${r.epoch} record before the client's ChangeCipherSpec`);
    }
    const opened = new RecordProtection(h.hs.suite, (h.hs.keys as NonNullable<ServerHandshake['keys']>).client).open(r);
    // The client's Finished does not decrypt: its key differs from ours (wrong PSK).
    if (opened === undefined)
      return this.failHandshake(
        h,
        AlertDescription.BAD_RECORD_MAC,
        "the client's Finished does not authenticate (wrong key?)",
      );
    if (opened.type !== ContentType.HANDSHAKE)
      return this.host.drop(
        h.peer,
        'unexpected',
        `epoch-1 record of type ${opened.type} before the handshake finished`,
      );
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
    for (const r of h.early.splice(0)) this.protectedRecord(h, r, peer);
  }

  private queue(h: Handshaking, step: () => Promise<void>): void {
    h.chain = h.chain.then(step);
  }

  private async onMessage(h: Handshaking, m: Parameters<ServerHandshake['onMessage']>[0]): Promise<void> {
    if (this.byPeer.get(peerKey(h.peer)) !== h) return;
    try {
      const last = await h.hs.onMessage(m);
      if (last === undefined) {
        if (h.ccsSeen && h.readEpoch === 0 && h.hs.keys !== undefined) this.changeCipherSpec(h, h.peer);
        return;
      }
      const params = h.hs.established();
      clearTimeout(h.timer);
      this.byPeer.delete(peerKey(h.peer));
      this.host.established(params, h.peer, last, { epoch0: h.nextSequence(0), epoch1: h.nextSequence(1) });
      this.host.event({ type: 'handshake-done', peer: h.peer, session: summarize(params) });
    } catch (err) {
      if (err instanceof DtlsHandshakeError) return this.failHandshake(h, err.alert, err.message);
      this.failHandshake(h, AlertDescription.INTERNAL_ERROR, errorMessage(err));
    }
  }

  private armTimer(h: Handshaking, ms: number): void {
    h.timer = setTimeout(() => {
      if (this.byPeer.get(peerKey(h.peer)) !== h || h.hs.finished) return;
      if (h.retransmits >= (this.o.maxRetransmits ?? 6)) return this.end(h, 'no answer to our flight');
      h.retransmits++;
      this.host.sendFlight(h.flight, h, h.peer);
      this.armTimer(h, Math.min(ms * 2, 60_000));
    }, ms);
    h.timer.unref();
  }

  private failHandshake(h: Handshaking, alert: number, reason: string): void {
    this.sendAlert(h.peer, alert, h.nextSequence(0));
    this.end(h, reason, alert);
  }

  private alertAndReport(peer: Peer, err: unknown): void {
    const alert = err instanceof DtlsHandshakeError ? err.alert : AlertDescription.INTERNAL_ERROR;
    this.sendAlert(peer, alert);
    this.host.event({ type: 'handshake-failed', peer, alert: alertName(alert), reason: errorMessage(err) });
  }

  end(h: Handshaking, reason: string, alert?: number): void {
    clearTimeout(h.timer);
    if (this.byPeer.get(peerKey(h.peer)) === h) this.byPeer.delete(peerKey(h.peer));
    this.host.event({
      type: 'handshake-failed',
      peer: h.peer,
      alert: alert !== undefined ? alertName(alert) : 'none',
      reason,
    });
  }

  /** A fatal alert in epoch 0: during a handshake the server has not changed its cipher spec yet. */
  private sendAlert(peer: Peer, description: number, sequence = 0): void {
    this.host.send(encodeRecord(ContentType.ALERT, 0, sequence, alertBody(AlertLevel.FATAL, description)), peer);
  }
}
