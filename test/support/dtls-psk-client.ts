/**
 * A scripted DTLS 1.2 client (PSK, or ECDHE_ECDSA with raw public keys both ways, RFC 7250) for
 * lockstep tests and the handshake benchmark: each step is
 * explicit (ClientHello, the flight-5 records, reading the server's datagrams), so that a test
 * can drop, repeat, reorder or fragment what goes to the server. Built on the project's own DTLS
 * primitives; interop with independent clients is proven elsewhere (OpenSSL, libcoap, Leshan).
 */
import { createECDH, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { chooseSuite, type CipherSuite } from '../../src/dtls/cipher-suites';
import { CertificateType, ExtensionType, encodeExtensions } from '../../src/dtls/handshake/extensions';
import {
  encodeHandshake,
  fragmentHandshake,
  HandshakeType,
  parseHandshakeFragments,
} from '../../src/dtls/handshake/header';
import { finishedVerifyData, masterSecret, pskPreMaster, sha256 } from '../../src/dtls/prf';
import { ContentType, DTLS_1_2, encodeRecord, parseRecords, type DtlsRecord } from '../../src/dtls/record';
import { deriveKeys, RecordProtection } from '../../src/dtls/record-protection';
import { WireReader, WireWriter } from '../../src/dtls/wire';

export interface ScriptedClientOptions {
  readonly identity: string;
  readonly key: Buffer;
  /** ECDHE_ECDSA with this raw public key instead of PSK (identity and key are then unused). */
  readonly rpk?: { readonly privateKey: KeyObject; readonly publicKeyDer: Buffer };
  /** Offered suites, in order (default: the three PSK suites, CCM_8 first). */
  readonly suites?: readonly number[];
  /** Offer a connection ID of this length (RFC 9146); undefined: no CID extension. */
  readonly cidLength?: number;
  readonly extendedMasterSecret?: boolean;
  /** Ask for max_fragment_length (RFC 6066 §4): code 1..4 = 512..4096 bytes. */
  readonly maxFragmentLength?: number;
}

export class ScriptedPskClient {
  readonly random = randomBytes(32);
  private readonly ownCid: Buffer | undefined;
  private cookie = Buffer.alloc(0);
  private seq = 0;
  private epoch1Seq = 0;
  private messageSeq = 0;
  private readonly transcript: Buffer[] = [];
  private serverRandom: Buffer | undefined;
  suite: CipherSuite | undefined;
  /** The CID the server issued, which this client puts in its protected records. */
  serverCid: Buffer | undefined;
  private ems = false;
  private cookieFresh = false;
  private flight5Sent = false;
  /** The max_fragment_length the server agreed to, in bytes. */
  agreedMaxFragment: number | undefined;
  private serverPoint: { group: number; point: Buffer } | undefined;
  private master: Buffer | undefined;
  private write: RecordProtection | undefined;
  private read: RecordProtection | undefined;
  serverHelloDone = false;
  established = false;
  alerts: number[] = [];
  /** Application data received. */
  readonly received: Buffer[] = [];

  get identity(): string {
    return this.o.identity;
  }

  constructor(private readonly o: ScriptedClientOptions) {
    this.ownCid = o.cidLength !== undefined ? randomBytes(o.cidLength) : undefined;
  }

  /** The ClientHello datagram (with the cookie once a HelloVerifyRequest was read). */
  clientHello(): Buffer {
    const exts: Array<[number, Buffer]> = [];
    if (this.o.extendedMasterSecret !== false) exts.push([ExtensionType.EXTENDED_MASTER_SECRET, Buffer.alloc(0)]);
    if (this.ownCid !== undefined)
      exts.push([ExtensionType.CONNECTION_ID, new WireWriter().vector(1, this.ownCid).toBuffer()]);
    if (this.o.maxFragmentLength !== undefined)
      exts.push([ExtensionType.MAX_FRAGMENT_LENGTH, Buffer.from([this.o.maxFragmentLength])]);
    if (this.o.rpk !== undefined) {
      exts.push([
        ExtensionType.SUPPORTED_GROUPS,
        new WireWriter().vector(2, new WireWriter().u16(23).toBuffer()).toBuffer(),
      ]);
      exts.push([ExtensionType.EC_POINT_FORMATS, new WireWriter().vector(1, Buffer.from([0])).toBuffer()]);
      exts.push([
        ExtensionType.SIGNATURE_ALGORITHMS,
        new WireWriter().vector(2, new WireWriter().u16(0x0403).toBuffer()).toBuffer(),
      ]);
      exts.push([
        ExtensionType.CLIENT_CERTIFICATE_TYPE,
        new WireWriter().vector(1, Buffer.from([CertificateType.RAW_PUBLIC_KEY])).toBuffer(),
      ]);
      exts.push([
        ExtensionType.SERVER_CERTIFICATE_TYPE,
        new WireWriter().vector(1, Buffer.from([CertificateType.RAW_PUBLIC_KEY])).toBuffer(),
      ]);
    }
    const suites = new WireWriter();
    for (const s of this.o.suites ?? (this.o.rpk !== undefined ? [0xc0ae] : [0xc0a8, 0x00a8, 0x00ae])) suites.u16(s);
    const body = new WireWriter()
      .u16(DTLS_1_2)
      .bytes(this.random)
      .vector(1, Buffer.alloc(0))
      .vector(1, this.cookie)
      .vector(2, suites.toBuffer())
      .vector(1, Buffer.from([0]))
      .bytes(encodeExtensions(exts))
      .toBuffer();
    const withCookie = this.cookie.length > 0;
    const messageSeq = withCookie ? 1 : 0;
    this.messageSeq = messageSeq + 1;
    if (withCookie)
      this.transcript.splice(0, this.transcript.length, encodeHandshake(HandshakeType.CLIENT_HELLO, messageSeq, body));
    return encodeRecord(
      ContentType.HANDSHAKE,
      0,
      this.seq++,
      encodeHandshake(HandshakeType.CLIENT_HELLO, messageSeq, body),
    );
  }

  /**
   * Reads a server datagram during the handshake and returns what to send next: the ClientHello
   * with the cookie after a HelloVerifyRequest, flight 5 after ServerHelloDone, else nothing.
   */
  drive(d: Buffer): Buffer[] {
    this.cookieFresh = false;
    this.onDatagram(d);
    if (this.established) return [];
    if (this.serverHelloDone && !this.flight5Sent) {
      this.flight5Sent = true;
      return this.flight5();
    }
    return this.cookieFresh ? [this.clientHello()] : [];
  }

  /** Reads a datagram from the server. */
  onDatagram(d: Buffer): void {
    for (const r of parseRecords(d, this.ownCid?.length ?? 0).records) this.onRecord(r);
  }

  /**
   * Flight 5 as separate records (ClientKeyExchange, ChangeCipherSpec, Finished), each its own
   * datagram; `fragmentKeyExchange` splits the ClientKeyExchange into fragments of that size.
   */
  flight5(fragmentKeyExchange?: number): Buffer[] {
    if (!this.serverHelloDone || this.suite === undefined || this.serverRandom === undefined)
      throw new Error('flight 5 before ServerHelloDone');
    const out: Buffer[] = [];
    const plain = (type: number, body: Buffer, fragment = 1 << 14): void => {
      const messageSeq = this.messageSeq++;
      for (const f of fragmentHandshake(type, messageSeq, body, fragment))
        out.push(encodeRecord(ContentType.HANDSHAKE, 0, this.seq++, f));
      this.transcript.push(encodeHandshake(type, messageSeq, body));
    };
    let preMaster: Buffer;
    let ecdhe: { readonly signed: Buffer; readonly privateKey: KeyObject } | undefined;
    if (this.o.rpk !== undefined) {
      if (this.serverPoint === undefined) throw new Error('no ServerKeyExchange');
      plain(HandshakeType.CERTIFICATE, new WireWriter().vector(3, this.o.rpk.publicKeyDer).toBuffer());
      const ecdh = createECDH(this.serverPoint.group === 24 ? 'secp384r1' : 'prime256v1');
      ecdh.generateKeys();
      plain(HandshakeType.CLIENT_KEY_EXCHANGE, new WireWriter().vector(1, ecdh.getPublicKey()).toBuffer());
      preMaster = ecdh.computeSecret(this.serverPoint.point);
      ecdhe = { signed: Buffer.concat(this.transcript), privateKey: this.o.rpk.privateKey };
    } else {
      plain(
        HandshakeType.CLIENT_KEY_EXCHANGE,
        new WireWriter().vector(2, Buffer.from(this.o.identity, 'utf8')).toBuffer(),
        fragmentKeyExchange,
      );
      preMaster = pskPreMaster(this.o.key);
    }
    // RFC 7627 §4: the session hash ends with the ClientKeyExchange (before any CertificateVerify).
    this.master = masterSecret(
      preMaster,
      this.random,
      this.serverRandom,
      this.ems ? sha256(...this.transcript) : undefined,
    );
    if (ecdhe !== undefined)
      plain(
        HandshakeType.CERTIFICATE_VERIFY,
        new WireWriter()
          .u16(0x0403)
          .vector(2, sign('sha256', ecdhe.signed, ecdhe.privateKey))
          .toBuffer(),
      );
    const keys = deriveKeys(this.suite, this.master, this.random, this.serverRandom);
    this.write = new RecordProtection(this.suite, keys.client);
    this.read = new RecordProtection(this.suite, keys.server);
    out.push(encodeRecord(ContentType.CHANGE_CIPHER_SPEC, 0, this.seq++, Buffer.from([1])));
    const verify = finishedVerifyData(this.master, 'client', sha256(...this.transcript));
    const finSeq = this.messageSeq++;
    const fin = encodeHandshake(HandshakeType.FINISHED, finSeq, verify);
    this.transcript.push(fin);
    out.push(this.write.seal(ContentType.HANDSHAKE, 1, this.epoch1Seq++, fin, this.cidForRecords()));
    return out;
  }

  /** The application data in a datagram from the server (records that do not open are skipped). */
  unseal(d: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this.read === undefined) return out;
    for (const r of parseRecords(d, this.ownCid?.length ?? 0).records) {
      if (r.epoch !== 1) continue;
      const opened = this.read.open(r);
      if (opened?.type === ContentType.APPLICATION_DATA) out.push(opened.content);
    }
    return out;
  }

  /** Application data, once established. */
  seal(data: Buffer): Buffer {
    if (this.write === undefined || !this.established) throw new Error('not established');
    return this.write.seal(ContentType.APPLICATION_DATA, 1, this.epoch1Seq++, data, this.cidForRecords());
  }

  private cidForRecords(): Buffer | undefined {
    return this.serverCid !== undefined && this.serverCid.length > 0 ? this.serverCid : undefined;
  }

  private onRecord(r: DtlsRecord): void {
    if (r.type === ContentType.ALERT && r.epoch === 0) {
      this.alerts.push(r.fragment[1] ?? -1);
      return;
    }
    if (r.epoch === 0 && r.type === ContentType.HANDSHAKE) {
      for (const f of parseHandshakeFragments(r.fragment)) this.onPlainMessage(f.type, f.messageSeq, f.body);
      return;
    }
    if (r.epoch !== 1 || this.read === undefined) return;
    const opened = this.read.open(r);
    if (opened === undefined) return;
    if (opened.type === ContentType.HANDSHAKE) {
      const [f] = parseHandshakeFragments(opened.content);
      if (f?.type === HandshakeType.FINISHED && this.master !== undefined) {
        const expected = finishedVerifyData(this.master, 'server', sha256(...this.transcript));
        if (f.body.length === 12 && timingSafeEqual(f.body, expected)) this.established = true;
      }
    } else if (opened.type === ContentType.APPLICATION_DATA) this.received.push(Buffer.from(opened.content));
  }

  private onPlainMessage(type: number, messageSeq: number, body: Buffer): void {
    if (type === HandshakeType.HELLO_VERIFY_REQUEST) {
      const r = new WireReader(body);
      r.u16('server_version');
      this.cookie = Buffer.from(r.vector(1, 'cookie'));
      this.cookieFresh = true;
      return;
    }
    if (type === HandshakeType.SERVER_HELLO && this.serverRandom === undefined) {
      const r = new WireReader(body);
      r.u16('server_version');
      this.serverRandom = Buffer.from(r.bytes(32, 'random'));
      r.vector(1, 'session_id');
      const id = r.u16('cipher_suite');
      this.suite = chooseSuite([id], () => true);
      r.u8('compression');
      if (r.remaining > 0) {
        const exts = new WireReader(r.vector(2, 'extensions'));
        while (exts.remaining > 0) {
          const t = exts.u16('type');
          const data = exts.vector(2, 'data');
          if (t === ExtensionType.EXTENDED_MASTER_SECRET) this.ems = true;
          if (t === ExtensionType.CONNECTION_ID) this.serverCid = Buffer.from(new WireReader(data).vector(1, 'cid'));
          if (t === ExtensionType.MAX_FRAGMENT_LENGTH) this.agreedMaxFragment = 2 ** (8 + (data[0] ?? 0));
        }
      }
      this.transcript.push(encodeHandshake(type, messageSeq, body));
      return;
    }
    if (
      (type === HandshakeType.CERTIFICATE || type === HandshakeType.CERTIFICATE_REQUEST) &&
      this.serverRandom !== undefined &&
      !this.serverHelloDone
    ) {
      this.transcript.push(encodeHandshake(type, messageSeq, body));
      return;
    }
    if (type === HandshakeType.SERVER_KEY_EXCHANGE && this.serverRandom !== undefined && !this.serverHelloDone) {
      const r = new WireReader(body);
      r.u8('curve_type');
      const group = r.u16('named_curve');
      this.serverPoint = { group, point: Buffer.from(r.vector(1, 'point')) };
      this.transcript.push(encodeHandshake(type, messageSeq, body));
      return;
    }
    if (type === HandshakeType.SERVER_HELLO_DONE && !this.serverHelloDone && this.serverRandom !== undefined) {
      this.transcript.push(encodeHandshake(type, messageSeq, body));
      this.serverHelloDone = true;
    }
  }
}

/**
 * A whole handshake over a socket (its datagrams from the server come as 'message' events;
 * `send` sends to the server), bounded in time.
 */
export function handshakeOver(
  client: ScriptedPskClient,
  socket: { on(e: 'message', f: (d: Buffer) => void): unknown; off(e: 'message', f: (d: Buffer) => void): unknown },
  send: (d: Buffer) => void,
  timeoutMs = 10_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`DTLS handshake of ${client.identity} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(d: Buffer): void {
      for (const out of client.drive(d)) send(out);
      if (!client.established) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve();
    }
    socket.on('message', onMessage);
    send(client.clientHello());
  });
}
