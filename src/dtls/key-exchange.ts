/**
 * The two key exchanges of the server handshake, each saying which messages it adds to flight 4,
 * which client messages it expects before Finished, and what they yield:
 * - PSK (RFC 4279 §2): ClientKeyExchange names the identity; the premaster comes from its key.
 * - ECDHE_ECDSA (RFC 8422): the server sends its certificate or raw public key (RFC 7250),
 *   a signed ephemeral key and a CertificateRequest; the client answers with its certificate or
 *   raw public key, its ephemeral key and a CertificateVerify, and is identified by that key.
 */
import { createPublicKey, type ECDH, type KeyObject } from 'node:crypto';
import { DtlsHandshakeError } from '../common/errors';
import type { PeerIdentity } from '../transport/types';
import { AlertDescription } from './alert';
import {
  encodeCertificateChain,
  encodeRawPublicKey,
  parseCertificateChain,
  parseRawPublicKey,
} from './handshake/certificate';
import {
  certificateRequest,
  checkCertificateVerify,
  ecdhePreMaster,
  ephemeralKey,
  serverKeyExchange,
} from './handshake/ecdhe';
import { CertificateType } from './handshake/extensions';
import { HandshakeType } from './handshake/header';
import type { HandshakeMessage } from './handshake/reassembly';
import { pskPreMaster, sha256 } from './prf';
import type { ServerIdentity } from './server-identity';
import { verifyClientChain } from './x509';
import { WireReader } from './wire';
import type { X509Certificate } from 'node:crypto';

export interface PskCredential {
  readonly key: Buffer;
  readonly endpoint: string;
}

/** How the handshake finds the device behind what the client presents. Undefined: unknown, refused. */
export interface HandshakeCredentials {
  psk(identity: string): Promise<PskCredential | undefined>;
  /** The endpoint of a raw public key (SubjectPublicKeyInfo DER). */
  rpk?(publicKeyDer: Buffer): Promise<{ readonly endpoint: string } | undefined>;
  /** The endpoint of a verified certificate's subject CN. */
  x509?(commonName: string): Promise<{ readonly endpoint: string } | undefined>;
}

export interface KeyExchange {
  /** Flight-4 messages between ServerHello and ServerHelloDone. */
  serverMessages(clientRandom: Buffer, serverRandom: Buffer): Array<{ type: number; body: Buffer }>;
  /** Client messages expected before Finished, in order. */
  readonly expected: readonly number[];
  /**
   * Takes the next expected message; `transcript` is every handshake message before it. The
   * premaster is returned with the ClientKeyExchange, the identity once known.
   */
  onMessage(
    m: HandshakeMessage,
    transcript: Buffer,
  ): Promise<{ preMaster?: Buffer; identity?: PeerIdentity; rpkDer?: Buffer }>;
}

export class PskKeyExchange implements KeyExchange {
  readonly expected = [HandshakeType.CLIENT_KEY_EXCHANGE];

  constructor(private readonly credentials: HandshakeCredentials) {}

  serverMessages(): Array<{ type: number; body: Buffer }> {
    return [];
  }

  async onMessage(m: HandshakeMessage): Promise<{ preMaster: Buffer; identity: PeerIdentity }> {
    const identity = new WireReader(m.body).vector(2, 'psk_identity').toString('utf8');
    const cred = await this.credentials.psk(identity);
    if (cred === undefined)
      throw new DtlsHandshakeError(AlertDescription.UNKNOWN_PSK_IDENTITY, `unknown PSK identity "${identity}"`);
    return { preMaster: pskPreMaster(cred.key), identity: { mode: 'psk', name: identity, endpoint: cred.endpoint } };
  }
}

export interface EcdheOptions {
  readonly server: ServerIdentity;
  readonly group: number;
  /** Certificate types agreed (RFC 7250): what the server sends, what the client sends. */
  readonly serverCertificateType: number;
  readonly clientCertificateType: number;
  readonly credentials: HandshakeCredentials;
  readonly trustAnchors: readonly X509Certificate[];
  readonly now: () => Date;
}

export class EcdheKeyExchange implements KeyExchange {
  readonly expected = [HandshakeType.CERTIFICATE, HandshakeType.CLIENT_KEY_EXCHANGE, HandshakeType.CERTIFICATE_VERIFY];
  private readonly ecdh: ECDH;
  private clientKey: KeyObject | undefined;
  private identity: PeerIdentity | undefined;
  private rpkDer: Buffer | undefined;

  constructor(private readonly o: EcdheOptions) {
    this.ecdh = ephemeralKey(o.group);
  }

  serverMessages(clientRandom: Buffer, serverRandom: Buffer): Array<{ type: number; body: Buffer }> {
    const certificate =
      this.o.serverCertificateType === CertificateType.RAW_PUBLIC_KEY
        ? encodeRawPublicKey(this.o.server.publicKeyDer)
        : encodeCertificateChain(this.o.server.chain);
    return [
      { type: HandshakeType.CERTIFICATE, body: certificate },
      {
        type: HandshakeType.SERVER_KEY_EXCHANGE,
        body: serverKeyExchange(this.o.group, this.ecdh, clientRandom, serverRandom, this.o.server.privateKey),
      },
      { type: HandshakeType.CERTIFICATE_REQUEST, body: certificateRequest() },
    ];
  }

  async onMessage(
    m: HandshakeMessage,
    transcript: Buffer,
  ): Promise<{ preMaster?: Buffer; identity?: PeerIdentity; rpkDer?: Buffer }> {
    if (m.type === HandshakeType.CERTIFICATE) {
      this.identity =
        this.o.clientCertificateType === CertificateType.RAW_PUBLIC_KEY
          ? await this.rawPublicKey(m.body)
          : await this.certificate(m.body);
      return {};
    }
    if (m.type === HandshakeType.CLIENT_KEY_EXCHANGE) return { preMaster: ecdhePreMaster(this.ecdh, m.body) };
    // Only now, with the signature checked, is the client the owner of the key it presented.
    checkCertificateVerify(m.body, transcript, this.clientKey as KeyObject);
    return {
      ...(this.identity !== undefined ? { identity: this.identity } : {}),
      ...(this.rpkDer !== undefined ? { rpkDer: this.rpkDer } : {}),
    };
  }

  private async rawPublicKey(body: Buffer): Promise<PeerIdentity> {
    const der = parseRawPublicKey(body);
    if (der.length === 0)
      throw new DtlsHandshakeError(AlertDescription.HANDSHAKE_FAILURE, 'the client sent no raw public key');
    try {
      this.clientKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch {
      throw new DtlsHandshakeError(AlertDescription.BAD_CERTIFICATE, "the client's raw public key cannot be parsed");
    }
    if (this.clientKey.asymmetricKeyType !== 'ec')
      throw new DtlsHandshakeError(AlertDescription.BAD_CERTIFICATE, "the client's raw public key is not an EC key");
    const found = await this.o.credentials.rpk?.(der);
    const fingerprint = `sha256:${sha256(der).toString('hex')}`;
    if (found === undefined)
      throw new DtlsHandshakeError(
        AlertDescription.ACCESS_DENIED,
        `raw public key ${fingerprint} belongs to no provisioned device`,
      );
    this.rpkDer = der;
    return { mode: 'rpk', name: fingerprint, endpoint: found.endpoint };
  }

  private async certificate(body: Buffer): Promise<PeerIdentity> {
    const verdict = verifyClientChain(parseCertificateChain(body), this.o.trustAnchors, this.o.now());
    if (!verdict.ok) throw new DtlsHandshakeError(verdict.alert, verdict.reason);
    this.clientKey = verdict.leaf.publicKey;
    const found = await this.o.credentials.x509?.(verdict.commonName);
    if (found === undefined)
      throw new DtlsHandshakeError(
        AlertDescription.ACCESS_DENIED,
        `certificate CN "${verdict.commonName}" is not allowed to connect`,
      );
    return { mode: 'x509', name: verdict.commonName, endpoint: found.endpoint };
  }
}
