/**
 * CoAP over DTLS (CoAPS, RFC 7252 §9): a DatagramTransport whose datagrams are the plaintext of
 * DTLS connections. Underneath, one UDP socket; the DTLS server engine (src/dtls/) does the
 * handshakes and the record protection. What the CoAP layer sends to a peer without a DTLS
 * connection is dropped (a server never starts a handshake; the device does).
 */
import { DtlsServer, type DtlsServerOptions } from './dtls-server';
import type { SourceGuard } from '../transport/guarded-transport';
import { SocketThreadTransport, type SocketThreadTransportOptions } from '../transport/socket-thread';
import type { DatagramHandler, DatagramTransport, Peer, SecureDatagramTransport } from '../transport/types';
import { UdpTransport, type UdpTransportOptions } from '../transport/udp';

export type DtlsTransportOptions = UdpTransportOptions &
  Pick<SocketThreadTransportOptions, 'sourceRate' | 'onDropped'> &
  Omit<DtlsServerOptions, 'send' | 'deliver'> & {
    /** The UDP socket on its own thread (socket-thread.ts): the system calls leave the main thread. */
    readonly socketThread?: boolean;
    /** Per-source-address rate limit applied to every datagram before the DTLS engine sees it (DESIGN invariant 5). */
    readonly guard?: SourceGuard;
  };

export class DtlsTransport implements SecureDatagramTransport {
  private handler: DatagramHandler = () => undefined;
  readonly dtls: DtlsServer;
  /** Plaintext datagrams the CoAP layer sent to a peer that has no DTLS connection. */
  unsent = 0;

  private constructor(
    private readonly udp: DatagramTransport,
    opts: Omit<DtlsServerOptions, 'send' | 'deliver'> & { readonly guard?: SourceGuard },
  ) {
    this.dtls = new DtlsServer({
      ...opts,
      send: (d, p) => udp.send(d, p),
      deliver: (data, _peer, c) => this.handler(data, c.securePeer, c.params.identity),
    });
    const guard = opts.guard;
    if (guard === undefined) udp.onDatagram((d, p) => this.dtls.receive(d, p));
    else udp.onDatagram((d, p) => guard.admit(p) && this.dtls.receive(d, p));
  }

  static async bind(opts: DtlsTransportOptions): Promise<DtlsTransport> {
    return new DtlsTransport(
      await (opts.socketThread === true ? SocketThreadTransport.bind(opts) : UdpTransport.bind(opts)),
      opts,
    );
  }

  send(data: Buffer, peer: Peer): void {
    if (!this.sendIfConnected(data, peer)) this.unsent++;
  }

  /**
   * Sends through the peer's DTLS connection; false when it has none. A datagram the connection
   * cannot carry (over the agreed fragment length, no write sequence number left) is counted here.
   */
  sendIfConnected(data: Buffer, peer: Peer): boolean {
    const outcome = this.dtls.trySend(data, peer);
    if (outcome === 'unsendable') this.unsent++;
    return outcome !== 'no-connection';
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  local(): Peer {
    return this.udp.local();
  }

  close(): Promise<void> {
    this.dtls.close();
    return this.udp.close();
  }
}
