/**
 * The plain CoAP port and the CoAPS port as one DatagramTransport for the CoAP layer. A datagram
 * to a peer marked `secure` (it came over DTLS, or its registration did) only ever leaves through
 * its DTLS connection: without one here it is dropped, never sent in plaintext.
 */
import type { DatagramHandler, DatagramTransport, Peer, SecureDatagramTransport } from './types';

export class DualTransport implements DatagramTransport {
  /** Datagrams for a secure peer that has no DTLS connection on this instance. */
  refusedPlain = 0;

  constructor(
    private readonly plain: DatagramTransport,
    readonly secure: SecureDatagramTransport,
  ) {}

  send(data: Buffer, peer: Peer): void {
    if (this.secure.sendIfConnected(data, peer)) return;
    if (peer.secure === true) {
      this.refusedPlain++;
      return;
    }
    this.plain.send(data, peer);
  }

  onDatagram(handler: DatagramHandler): void {
    this.plain.onDatagram(handler);
    this.secure.onDatagram(handler);
  }

  /** The plain port (the CoAPS port: `secure.local()`). */
  local(): Peer {
    return this.plain.local();
  }

  async close(): Promise<void> {
    await Promise.all([this.plain.close(), this.secure.close()]);
  }
}
