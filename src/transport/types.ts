/**
 * The datagram transport contract. Only `transport/` code imports `node:dgram`; everything above
 * sees peers and buffers, so that the DTLS transport (src/dtls/dtls-transport.ts) and the in-memory
 * pair of the tests plug in here.
 */
export interface Peer {
  readonly address: string;
  readonly port: number;
  /** Reached over DTLS only: nothing is ever sent to it in plaintext. */
  readonly secure?: boolean;
}

/** Who a secure transport authenticated a datagram's sender as, and the endpoint bound to it. */
export interface PeerIdentity {
  readonly mode: 'psk' | 'rpk' | 'x509';
  /** PSK identity, key fingerprint or certificate subject: never a secret. */
  readonly name: string;
  /** The only endpoint this peer may register and act as. */
  readonly endpoint: string;
}

export type DatagramHandler = (data: Buffer, peer: Peer, identity?: PeerIdentity) => void;

export interface DatagramTransport {
  send(data: Buffer, peer: Peer): void;
  onDatagram(handler: DatagramHandler): void;
  /** The local address the transport is bound to. */
  local(): Peer;
  close(): Promise<void>;
}

/**
 * A transport that reaches a peer only through a secure connection the peer opened (CoAPS,
 * RFC 7252 §9): the DTLS transport implements it, the dual transport depends on it alone.
 */
export interface SecureDatagramTransport extends DatagramTransport {
  /** Sends through the peer's secure connection; false when it has none here. */
  sendIfConnected(data: Buffer, peer: Peer): boolean;
}

/** A stable string key for a peer ("1.2.3.4:5683", "[::1]:5683"). */
export function peerKey(p: Peer): string {
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

/** Strips the IPv4-mapped prefix for display and comparison across socket families. */
export function displayAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export const samePeer = (a: Peer, b: Peer): boolean =>
  a.port === b.port && displayAddress(a.address) === displayAddress(b.address);
