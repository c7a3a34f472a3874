/**
 * The server side of one full DTLS 1.2 handshake, from the ClientHello that carried a valid
 * cookie to the server's Finished (RFC 6347 §4.2, RFC 5246 §7.3), for the PSK key exchange
 * (RFC 4279 §2):
 *
 *   ClientHello (cookie)  →
 *                         ←  ServerHello, ServerHelloDone            (flight 4)
 *   ClientKeyExchange, [ChangeCipherSpec], Finished  →               (flight 5)
 *                         ←  [ChangeCipherSpec], Finished            (flight 6)
 *
 * Negotiated: the cipher suite (server's preference), extended master secret (RFC 7627, used
 * whenever offered), secure renegotiation (RFC 5746: answered empty; renegotiation itself is
 * refused), max_fragment_length (RFC 6066 §4) and connection ID (RFC 9146). Only extensions
 * the client offered are answered. A failure throws DtlsHandshakeError with the alert to send.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { DtlsHandshakeError } from '../errors';
import { AlertDescription } from './alert';
import { chooseSuite, type CipherSuite } from './cipher-suites';
import type { ClientHello } from './handshake/client-hello';
import { encodeHandshake, HandshakeType } from './handshake/header';
import { ExtensionType, maxFragmentBytes, RENEGOTIATION_SCSV } from './handshake/extensions';
import type { HandshakeMessage } from './handshake/reassembly';
import { serverHello } from './handshake/server-hello';
import { finishedVerifyData, masterSecret, pskPreMaster, sha256 } from './prf';
import { deriveKeys, type SessionKeys } from './record-protection';
import type { FlightItem } from './flight';
import { WireReader } from './wire';
import type { PeerIdentity } from '../transport/types';

/** The device a credential belongs to. */
export interface PskCredential {
  readonly key: Buffer;
  readonly endpoint: string;
}

export interface HandshakeCredentials {
  /** The key of a PSK identity, or undefined when the identity is unknown (or revoked). */
  psk(identity: string): Promise<PskCredential | undefined>;
}

export interface HandshakeOptions {
  readonly credentials: HandshakeCredentials;
  /** Length of the connection IDs this server issues (0: none, the extension is not answered). */
  readonly cidLength: number;
}

/** What an established connection takes over from its handshake. */
export interface Established {
  readonly suite: CipherSuite;
  readonly keys: SessionKeys;
  readonly master: Buffer;
  readonly sessionId: Buffer;
  readonly extendedMasterSecret: boolean;
  readonly identity: PeerIdentity;
  /** The CID the client puts in its records to this server; undefined without CID. */
  readonly ownCid?: Buffer;
  /** The CID this server puts in its records to the client (empty when the client wants none). */
  readonly peerCid?: Buffer;
  readonly maxFragment?: number;
}

type State = 'awaiting-key-exchange' | 'awaiting-finished' | 'done';

export class ServerHandshake {
  readonly suite: CipherSuite;
  readonly serverRandom = randomBytes(32);
  readonly sessionId = randomBytes(32);
  private readonly transcript: Buffer[] = [];
  private nextSendSeq: number;
  private state: State = 'awaiting-key-exchange';
  private readonly ems: boolean;
  /** The CID the client puts in its records to this server (its Finished already carries it). */
  readonly ownCid: Buffer | undefined;
  /** The CID this server puts in its protected records to the client (empty: none). */
  readonly peerCid: Buffer | undefined;
  private readonly maxFragment: number | undefined;
  private master: Buffer | undefined;
  private keysValue: SessionKeys | undefined;
  private identity: Established['identity'] | undefined;

  constructor(
    private readonly hello: ClientHello,
    helloMessageSeq: number,
    helloBody: Buffer,
    private readonly opts: HandshakeOptions,
  ) {
    // RFC 5246 §7.4.1.2: only the null compression method; LwM2M needs none other.
    if (!hello.compression.includes(0)) throw new DtlsHandshakeError(AlertDescription.HANDSHAKE_FAILURE, 'the client offers no null compression');
    const suite = chooseSuite(hello.cipherSuites, (s) => s.keyExchange === 'psk');
    if (suite === undefined) throw new DtlsHandshakeError(AlertDescription.HANDSHAKE_FAILURE, `no cipher suite in common (offered: ${hello.cipherSuites.map((s) => `0x${s.toString(16).padStart(4, '0')}`).join(' ')})`);
    this.suite = suite;
    this.ems = hello.extensions.has(ExtensionType.EXTENDED_MASTER_SECRET);
    const cid = hello.extensions.get(ExtensionType.CONNECTION_ID);
    if (cid !== undefined && opts.cidLength > 0) {
      const r = new WireReader(cid);
      this.peerCid = Buffer.from(r.vector(1, 'connection_id'));
      this.ownCid = randomBytes(opts.cidLength);
    }
    this.maxFragment = maxFragmentBytes(hello.extensions.get(ExtensionType.MAX_FRAGMENT_LENGTH));
    // The server's message_seq continues from the ClientHello it answers (a stateless
    // HelloVerifyRequest took message_seq 0), as OpenSSL and mbed TLS do.
    this.nextSendSeq = helloMessageSeq;
    this.transcript.push(encodeHandshake(HandshakeType.CLIENT_HELLO, helloMessageSeq, helloBody));
  }

  /** Flight 4: ServerHello and ServerHelloDone. */
  firstFlight(): FlightItem[] {
    const exts: Array<[number, Buffer]> = [];
    const offered = this.hello.extensions;
    if (offered.has(ExtensionType.RENEGOTIATION_INFO) || this.hello.cipherSuites.includes(RENEGOTIATION_SCSV)) exts.push([ExtensionType.RENEGOTIATION_INFO, Buffer.from([0])]);
    if (this.ems) exts.push([ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)]);
    if (this.maxFragment !== undefined) exts.push([ExtensionType.MAX_FRAGMENT_LENGTH, offered.get(ExtensionType.MAX_FRAGMENT_LENGTH) as Buffer]);
    if (this.ownCid !== undefined) exts.push([ExtensionType.CONNECTION_ID, Buffer.concat([Buffer.from([this.ownCid.length]), this.ownCid])]);
    return [this.message(HandshakeType.SERVER_HELLO, serverHello(this.serverRandom, this.sessionId, this.suite.id, exts)), this.message(HandshakeType.SERVER_HELLO_DONE, Buffer.alloc(0))];
  }

  get keys(): SessionKeys | undefined {
    return this.keysValue;
  }

  get finished(): boolean {
    return this.state === 'done';
  }

  /** Next message of the client's flight 5, in order. Returns the server's last flight once Finished verified. */
  async onMessage(m: HandshakeMessage): Promise<FlightItem[] | undefined> {
    if (this.state === 'awaiting-key-exchange' && m.type === HandshakeType.CLIENT_KEY_EXCHANGE) {
      await this.keyExchange(m);
      return undefined;
    }
    if (this.state === 'awaiting-finished' && m.type === HandshakeType.FINISHED) return this.clientFinished(m);
    throw new DtlsHandshakeError(AlertDescription.UNEXPECTED_MESSAGE, `handshake message ${m.type} not expected while ${this.state}`);
  }

  /** The connection's parameters, once done. */
  established(): Established {
    if (this.state !== 'done' || this.master === undefined || this.keysValue === undefined || this.identity === undefined) throw new DtlsHandshakeError(AlertDescription.INTERNAL_ERROR, 'handshake not finished');
    return {
      suite: this.suite,
      keys: this.keysValue,
      master: this.master,
      sessionId: this.sessionId,
      extendedMasterSecret: this.ems,
      identity: this.identity,
      ...(this.ownCid !== undefined ? { ownCid: this.ownCid } : {}),
      ...(this.peerCid !== undefined ? { peerCid: this.peerCid } : {}),
      ...(this.maxFragment !== undefined ? { maxFragment: this.maxFragment } : {}),
    };
  }

  private message(type: number, body: Buffer, epoch = 0): FlightItem {
    const messageSeq = this.nextSendSeq++;
    this.transcript.push(encodeHandshake(type, messageSeq, body));
    return { kind: 'handshake', epoch, type, messageSeq, body };
  }

  private async keyExchange(m: HandshakeMessage): Promise<void> {
    // RFC 4279 §2: struct { opaque psk_identity<0..2^16-1>; } ClientKeyExchange.
    const r = new WireReader(m.body);
    const identity = r.vector(2, 'psk_identity').toString('utf8');
    const cred = await this.opts.credentials.psk(identity);
    if (cred === undefined) throw new DtlsHandshakeError(AlertDescription.UNKNOWN_PSK_IDENTITY, `unknown PSK identity "${identity}"`);
    this.transcript.push(encodeHandshake(m.type, m.messageSeq, m.body));
    const preMaster = pskPreMaster(cred.key);
    this.master = masterSecret(preMaster, this.hello.random, this.serverRandom, this.ems ? sha256(...this.transcript) : undefined);
    this.keysValue = deriveKeys(this.suite, this.master, this.hello.random, this.serverRandom);
    this.identity = { mode: 'psk', name: identity, endpoint: cred.endpoint };
    this.state = 'awaiting-finished';
  }

  private clientFinished(m: HandshakeMessage): FlightItem[] {
    const master = this.master as Buffer;
    const expected = finishedVerifyData(master, 'client', sha256(...this.transcript));
    // A wrong PSK shows here: the client's Finished does not verify (RFC 5246 §7.4.9).
    if (m.body.length !== expected.length || !timingSafeEqual(m.body, expected)) throw new DtlsHandshakeError(AlertDescription.DECRYPT_ERROR, 'the client\'s Finished does not verify (wrong key?)');
    this.transcript.push(encodeHandshake(m.type, m.messageSeq, m.body));
    const verify = finishedVerifyData(master, 'server', sha256(...this.transcript));
    this.state = 'done';
    return [{ kind: 'ccs' }, { kind: 'handshake', epoch: 1, type: HandshakeType.FINISHED, messageSeq: this.nextSendSeq++, body: verify }];
  }
}
