/**
 * UDP transport on one socket. The same socket receives device requests and sends our
 * downlink requests, so that devices behind NAT see downlinks from the port they registered to.
 * Binding "::" gives a dual-stack socket (IPv4 peers appear as ::ffff:a.b.c.d).
 */
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { DatagramHandler, DatagramTransport, Peer } from './types';

export interface UdpTransportOptions {
  readonly host: string;
  readonly port: number;
  /** Socket buffer sizes; large buffers absorb bursts at high packet rates. */
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
  /** Called on socket errors (e.g. ICMP unreachable surfaced by the OS); the socket stays open. */
  readonly onError?: (err: Error) => void;
}

export class UdpTransport implements DatagramTransport {
  private handler: DatagramHandler = () => undefined;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    /** A udp6 socket (possibly dual-stack): IPv4 destinations must be given in the ::ffff: mapped form. */
    private readonly ipv6: boolean,
  ) {
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) =>
      this.handler(msg, { address: rinfo.address, port: rinfo.port }),
    );
  }

  static async bind(opts: UdpTransportOptions): Promise<UdpTransport> {
    const ipv6 = opts.host.includes(':');
    const socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', ipv6Only: false, reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', fail);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', fail);
        resolve();
      });
    });
    if (opts.recvBufferSize) trySet(() => socket.setRecvBufferSize(opts.recvBufferSize as number));
    if (opts.sendBufferSize) trySet(() => socket.setSendBufferSize(opts.sendBufferSize as number));
    socket.on('error', (err) => opts.onError?.(err));
    return new UdpTransport(socket, ipv6);
  }

  send(data: Buffer, peer: Peer): void {
    if (this.closed) return;
    // Sending to a plain IPv4 address from an AF_INET6 socket fails with EINVAL: use the mapped form.
    const address = this.ipv6 && isIPv4(peer.address) ? `::ffff:${peer.address}` : peer.address;
    this.socket.send(data, peer.port, address);
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  local(): Peer {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function trySet(fn: () => void): void {
  try {
    fn();
  } catch {
    // The OS caps buffer sizes (net.core.rmem_max); the default is then kept.
  }
}
