/**
 * A transparent UDP relay between devices and a server that records every datagram the server
 * sends, decoded as CoAP (RFC 7252 §3), so a test can check what went on the wire: methods,
 * Content-Format and Accept options. Each device (source address) gets its own upstream socket.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decode } from '../../src/coap/codec';
import type { CoapMessage } from '../../src/coap/message';

export interface TappedDownlink {
  /** The device's address:port as the relay saw it. */
  readonly client: string;
  /** null when the datagram is not valid CoAP. */
  readonly message: CoapMessage | null;
}

export class UdpTap {
  readonly downlinks: TappedDownlink[] = [];
  private readonly upstream = new Map<string, Socket>();

  private constructor(
    private readonly front: Socket,
    private readonly serverPort: number,
    private readonly serverHost: string,
  ) {}

  static async start(serverPort: number, serverHost = '127.0.0.1'): Promise<UdpTap> {
    const front = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, '127.0.0.1', () => resolve());
    });
    const tap = new UdpTap(front, serverPort, serverHost);
    front.on('message', (msg, rinfo) => tap.forward(msg, rinfo.address, rinfo.port));
    return tap;
  }

  /** The port devices send to. */
  get port(): number {
    return this.front.address().port;
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.upstream.values(), this.front].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    this.upstream.clear();
  }

  private forward(msg: Buffer, address: string, port: number): void {
    const client = `${address}:${port}`;
    let up = this.upstream.get(client);
    if (up === undefined) {
      const socket = createSocket('udp4');
      socket.on('message', (reply) => {
        let message: CoapMessage | null;
        try {
          message = decode(reply);
        } catch {
          message = null;
        }
        this.downlinks.push({ client, message });
        this.front.send(reply, port, address);
      });
      up = socket;
      this.upstream.set(client, socket);
    }
    up.send(msg, this.serverPort, this.serverHost);
  }
}
