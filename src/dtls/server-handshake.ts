/**
 * The server side of one full DTLS 1.2 handshake, from the ClientHello that carried a valid
 * cookie to the server's Finished (RFC 6347 §4.2, RFC 5246 §7.3):
 *
 *   ClientHello (cookie)  →
 *                         ←  ServerHello, [Certificate, ServerKeyExchange, CertificateRequest],
 *                            ServerHelloDone                                        (flight 4)
 *   [Certificate], ClientKeyExchange, [CertificateVerify], ChangeCipherSpec, Finished  →
 *                         ←  ChangeCipherSpec, Finished                             (flight 6)
 *
 * The bracketed messages are those of ECDHE_ECDSA (./key-exchange.ts); PSK has none. A session
 * resumed by its ID takes the abbreviated handshake (§7.3): ServerHello, ChangeCipherSpec and
 * Finished from the server first, then the client's ChangeCipherSpec and Finished. Negotiated
 * here: the cipher suite (server's preference, ECDHE only with a server identity and a common
 * curve), certificate types (RFC 7250), extended master secret (RFC 7627, used whenever
 * offered), secure renegotiation (RFC 5746: answered empty; renegotiation itself is refused),
 * max_fragment_length (RFC 6066 §4) and connection ID (RFC 9146). Only extensions the client
 * offered are answered. A failure throws DtlsHandshakeError with the alert to send.
 */
import { randomBytes, timingSafeEqual, type X509Certificate } from 'node:crypto';
import { DtlsHandshakeError } from '../common/errors';
import type { PeerIdentity } from '../transport/types';
import { AlertDescription } from './alert';
import { chooseSuite, cipherSuite, type CipherSuite } from './cipher-suites';
import type { StoredSession } from './resumption-cache';
import type { ClientHello } from './handshake/client-hello';
import { chooseGroup } from './handshake/ecdhe';
import {
  CertificateType,
  ExtensionType,
  maxFragmentBytes,
  RENEGOTIATION_SCSV,
  SIGNATURE_ECDSA_SECP256R1_SHA256,
  u16List,
  u8List,
} from './handshake/extensions';
import { encodeHandshake, HandshakeType } from './handshake/header';
import type { HandshakeMessage } from './handshake/reassembly';
import { serverHello } from './handshake/server-hello';
import { EcdheKeyExchange, PskKeyExchange, type HandshakeCredentials, type KeyExchange } from './key-exchange';
import { finishedVerifyData, masterSecret, sha256 } from './prf';
import { deriveKeys, type SessionKeys } from './record-protection';
import type { ServerIdentity } from './server-identity';
import type { FlightItem } from './flight';
import { WireReader } from './wire';

export type { HandshakeCredentials, PskCredential } from './key-exchange';

export interface HandshakeOptions {
  readonly credentials: HandshakeCredentials;
  /** Length of the connection IDs this server issues (0: none, the extension is not answered). */
  readonly cidLength: number;
  /** The server's key (and certificate): without it, only PSK suites are negotiated. */
  readonly serverIdentity?: ServerIdentity;
  /** Trust anchors for client certificates (X.509 mode). */
  readonly trustAnchors?: readonly X509Certificate[];
  readonly now?: () => Date;
}

/** What an established connection takes over from its handshake. */
export interface Established {
  readonly suite: CipherSuite;
  readonly keys: SessionKeys;
  readonly master: Buffer;
  readonly clientRandom: Buffer;
  readonly serverRandom: Buffer;
  readonly sessionId: Buffer;
  readonly extendedMasterSecret: boolean;
  readonly identity: PeerIdentity;
  /** The client's raw public key (SubjectPublicKeyInfo DER), in raw-public-key mode. */
  readonly rpkDer?: Buffer;
  /** True when the session was resumed (abbreviated handshake). */
  readonly resumed: boolean;
  /** The CID the client puts in its records to this server; undefined without CID. */
  readonly ownCid?: Buffer;
  /** The CID this server puts in its records to the client (empty when the client wants none). */
  readonly peerCid?: Buffer;
  readonly maxFragment?: number;
}

/** The first type in the client's list (RFC 7250 §4.1: in its preference order) that `ok` allows; X.509 when not offered. */
function certificateType(data: Buffer | undefined, ok: (t: number) => boolean): number | undefined {
  if (data === undefined) return ok(CertificateType.X509) ? CertificateType.X509 : undefined;
  return u8List(data, 'certificate types').find(ok);
}

export class ServerHandshake {
  readonly suite: CipherSuite;
  readonly serverRandom = randomBytes(32);
  readonly sessionId: Buffer;
  /** Set when this handshake resumes a stored session (abbreviated handshake). */
  readonly resumed: StoredSession | undefined;
  private readonly transcript: Buffer[] = [];
  private nextSendSeq: number;
  private readonly exchange: KeyExchange | undefined;
  /** Client messages still expected before its Finished. */
  private readonly expected: number[];
  private done = false;
  private readonly ems: boolean;
  /** The CID the client puts in its records to this server (its Finished already carries it). */
  readonly ownCid: Buffer | undefined;
  /** The CID this server puts in its protected records to the client (empty: none). */
  readonly peerCid: Buffer | undefined;
  /** The max_fragment_length agreed (RFC 6066 §4), in bytes; undefined: 2^14. */
  readonly maxFragment: number | undefined;
  private readonly certificateTypes: { server?: number; client?: number } = {};
  private master: Buffer | undefined;
  private keysValue: SessionKeys | undefined;
  private identity: PeerIdentity | undefined;
  private rpkDer: Buffer | undefined;

  constructor(
    private readonly hello: ClientHello,
    helloMessageSeq: number,
    helloBody: Buffer,
    opts: HandshakeOptions,
    resume?: StoredSession,
  ) {
    // RFC 5246 §7.4.1.2: only the null compression method; LwM2M needs none other.
    if (!hello.compression.includes(0))
      throw new DtlsHandshakeError(AlertDescription.HANDSHAKE_FAILURE, 'the client offers no null compression');
    const exts = hello.extensions;
    const group = chooseGroup(u16List(exts.get(ExtensionType.SUPPORTED_GROUPS), 'supported_groups'));
    const signatures = u16List(exts.get(ExtensionType.SIGNATURE_ALGORITHMS), 'signature_algorithms');
    const server = opts.serverIdentity;
    const serverType = certificateType(
      exts.get(ExtensionType.SERVER_CERTIFICATE_TYPE),
      (t) => t === CertificateType.RAW_PUBLIC_KEY || (t === CertificateType.X509 && (server?.chain.length ?? 0) > 0),
    );
    const clientType = certificateType(
      exts.get(ExtensionType.CLIENT_CERTIFICATE_TYPE),
      (t) => t === CertificateType.RAW_PUBLIC_KEY || t === CertificateType.X509,
    );
    const ecdheOk =
      server !== undefined &&
      group !== undefined &&
      serverType !== undefined &&
      clientType !== undefined &&
      (signatures.length === 0 || signatures.includes(SIGNATURE_ECDSA_SECP256R1_SHA256));
    const suite =
      resume !== undefined
        ? cipherSuite(resume.suite)
        : chooseSuite(hello.cipherSuites, (s) => s.keyExchange === 'psk' || ecdheOk);
    if (suite === undefined)
      throw new DtlsHandshakeError(
        AlertDescription.HANDSHAKE_FAILURE,
        `no cipher suite in common (offered: ${hello.cipherSuites.map((s) => `0x${s.toString(16).padStart(4, '0')}`).join(' ')})`,
      );
    this.suite = suite;
    this.resumed = resume;
    this.sessionId = resume?.sessionId ?? randomBytes(32);
    if (resume !== undefined) {
      this.exchange = undefined;
      this.master = resume.master;
      this.identity = resume.identity;
      this.rpkDer = resume.rpkDer;
      this.keysValue = deriveKeys(suite, resume.master, hello.random, this.serverRandom);
    } else if (
      suite.keyExchange === 'ecdhe_ecdsa' &&
      server !== undefined &&
      group !== undefined &&
      serverType !== undefined &&
      clientType !== undefined
    ) {
      if (exts.has(ExtensionType.SERVER_CERTIFICATE_TYPE)) this.certificateTypes.server = serverType;
      if (exts.has(ExtensionType.CLIENT_CERTIFICATE_TYPE)) this.certificateTypes.client = clientType;
      this.exchange = new EcdheKeyExchange({
        server,
        group,
        serverCertificateType: serverType,
        clientCertificateType: clientType,
        credentials: opts.credentials,
        trustAnchors: opts.trustAnchors ?? [],
        now: opts.now ?? (() => new Date()),
      });
    } else {
      this.exchange = new PskKeyExchange(opts.credentials);
    }
    this.expected = [...(this.exchange?.expected ?? [])];
    this.ems = exts.has(ExtensionType.EXTENDED_MASTER_SECRET);
    const cid = exts.get(ExtensionType.CONNECTION_ID);
    if (cid !== undefined && opts.cidLength > 0) {
      this.peerCid = Buffer.from(new WireReader(cid).vector(1, 'connection_id'));
      this.ownCid = randomBytes(opts.cidLength);
    }
    this.maxFragment = maxFragmentBytes(exts.get(ExtensionType.MAX_FRAGMENT_LENGTH));
    // The server's message_seq continues from the ClientHello it answers (a stateless
    // HelloVerifyRequest took message_seq 0), as OpenSSL and mbed TLS do.
    this.nextSendSeq = helloMessageSeq;
    this.transcript.push(encodeHandshake(HandshakeType.CLIENT_HELLO, helloMessageSeq, helloBody));
  }

  /** Flight 4: ServerHello, the key exchange's messages, ServerHelloDone. */
  firstFlight(): FlightItem[] {
    const exts: Array<[number, Buffer]> = [];
    const offered = this.hello.extensions;
    if (offered.has(ExtensionType.RENEGOTIATION_INFO) || this.hello.cipherSuites.includes(RENEGOTIATION_SCSV))
      exts.push([ExtensionType.RENEGOTIATION_INFO, Buffer.from([0])]);
    if (this.ems) exts.push([ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)]);
    if (this.maxFragment !== undefined)
      exts.push([ExtensionType.MAX_FRAGMENT_LENGTH, offered.get(ExtensionType.MAX_FRAGMENT_LENGTH) as Buffer]);
    if (this.ownCid !== undefined)
      exts.push([ExtensionType.CONNECTION_ID, Buffer.concat([Buffer.from([this.ownCid.length]), this.ownCid])]);
    if (this.certificateTypes.client !== undefined)
      exts.push([ExtensionType.CLIENT_CERTIFICATE_TYPE, Buffer.from([this.certificateTypes.client])]);
    if (this.certificateTypes.server !== undefined)
      exts.push([ExtensionType.SERVER_CERTIFICATE_TYPE, Buffer.from([this.certificateTypes.server])]);
    const hello = this.message(
      HandshakeType.SERVER_HELLO,
      serverHello(this.serverRandom, this.sessionId, this.suite.id, exts),
    );
    if (this.exchange === undefined) {
      // Abbreviated handshake: the server's Finished comes first, over ClientHello and ServerHello.
      const verify = finishedVerifyData(this.master as Buffer, 'server', sha256(...this.transcript));
      return [hello, { kind: 'ccs' }, this.message(HandshakeType.FINISHED, verify, 1)];
    }
    return [
      hello,
      ...this.exchange.serverMessages(this.hello.random, this.serverRandom).map((m) => this.message(m.type, m.body)),
      this.message(HandshakeType.SERVER_HELLO_DONE, Buffer.alloc(0)),
    ];
  }

  get keys(): SessionKeys | undefined {
    return this.keysValue;
  }

  get finished(): boolean {
    return this.done;
  }

  /** Next message of the client's flight 5, in order. Returns the server's last flight once Finished verified. */
  async onMessage(m: HandshakeMessage): Promise<FlightItem[] | undefined> {
    if (this.done)
      throw new DtlsHandshakeError(AlertDescription.UNEXPECTED_MESSAGE, `handshake message ${m.type} after Finished`);
    const next = this.expected[0];
    if (next === undefined && m.type === HandshakeType.FINISHED) return this.clientFinished(m);
    if (m.type !== next)
      throw new DtlsHandshakeError(
        AlertDescription.UNEXPECTED_MESSAGE,
        `handshake message ${m.type} where ${next ?? HandshakeType.FINISHED} was expected`,
      );
    this.expected.shift();
    const got = await (this.exchange as KeyExchange).onMessage(m, Buffer.concat(this.transcript));
    this.transcript.push(encodeHandshake(m.type, m.messageSeq, m.body));
    if (got.identity !== undefined) this.identity = got.identity;
    if (got.rpkDer !== undefined) this.rpkDer = got.rpkDer;
    if (got.preMaster !== undefined) {
      // RFC 7627 §3: the session hash covers the messages up to and including ClientKeyExchange.
      this.master = masterSecret(
        got.preMaster,
        this.hello.random,
        this.serverRandom,
        this.ems ? sha256(...this.transcript) : undefined,
      );
      this.keysValue = deriveKeys(this.suite, this.master, this.hello.random, this.serverRandom);
    }
    return undefined;
  }

  /** The connection's parameters, once done. */
  established(): Established {
    if (!this.done || this.master === undefined || this.keysValue === undefined || this.identity === undefined)
      throw new DtlsHandshakeError(AlertDescription.INTERNAL_ERROR, 'handshake not finished');
    return {
      suite: this.suite,
      keys: this.keysValue,
      master: this.master,
      clientRandom: this.hello.random,
      serverRandom: this.serverRandom,
      sessionId: this.sessionId,
      extendedMasterSecret: this.ems,
      identity: this.identity,
      resumed: this.resumed !== undefined,
      ...(this.rpkDer !== undefined ? { rpkDer: this.rpkDer } : {}),
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

  private clientFinished(m: HandshakeMessage): FlightItem[] {
    if (this.master === undefined || this.identity === undefined)
      throw new DtlsHandshakeError(AlertDescription.UNEXPECTED_MESSAGE, 'Finished before the key exchange');
    const expected = finishedVerifyData(this.master, 'client', sha256(...this.transcript));
    // A wrong PSK shows here: the client's Finished does not verify (RFC 5246 §7.4.9).
    if (m.body.length !== expected.length || !timingSafeEqual(m.body, expected))
      throw new DtlsHandshakeError(
        AlertDescription.DECRYPT_ERROR,
        "the client's Finished does not verify (wrong key?)",
      );
    this.transcript.push(encodeHandshake(m.type, m.messageSeq, m.body));
    this.done = true;
    if (this.resumed !== undefined) return []; // the server's Finished went first
    const verify = finishedVerifyData(this.master, 'server', sha256(...this.transcript));
    return [
      { kind: 'ccs' },
      { kind: 'handshake', epoch: 1, type: HandshakeType.FINISHED, messageSeq: this.nextSendSeq++, body: verify },
    ];
  }
}
