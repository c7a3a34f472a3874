/**
 * A UDP load balancer in front of bridge instances, as kube-proxy with client affinity behaves
 * for the devices: each device (source address) gets a socket of its own towards the backend,
 * whose datagrams come back to the device from the balancer's address, whichever backend sent
 * them. Switching the backend remaps every device, as after a pod died. It records which backend
 * port each downlink came from, so a test can tell which instance reached the device.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface Downlink {
  readonly client: string;
  /** The port of the bridge instance that sent it. */
  readonly fromPort: number;
}

export class UdpBalancer {
  readonly downlinks: Downlink[] = [];
  private readonly front: Socket;
  private readonly upstream = new Map<string, Promise<Socket>>();
  private backendPort: number;

  private constructor(front: Socket, backendPort: number) {
    this.front = front;
    this.backendPort = backendPort;
  }

  static async start(backendPort: number): Promise<UdpBalancer> {
    const front = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      front.once('error', reject);
      front.bind(0, '127.0.0.1', () => resolve());
    });
    const lb = new UdpBalancer(front, backendPort);
    front.on('message', (msg, rinfo) => void lb.forward(msg, rinfo.address, rinfo.port));
    return lb;
  }

  get port(): number {
    return this.front.address().port;
  }

  /** Every device's traffic goes to this backend from now on. */
  switchTo(backendPort: number): void {
    this.backendPort = backendPort;
  }

  async close(): Promise<void> {
    for (const s of this.upstream.values()) (await s).close();
    this.upstream.clear();
    await new Promise<void>((resolve) => this.front.close(() => resolve()));
  }

  private async forward(msg: Buffer, address: string, port: number): Promise<void> {
    const client = `${address}:${port}`;
    let up = this.upstream.get(client);
    if (up === undefined) {
      const s = createSocket('udp4');
      s.on('message', (reply, from) => {
        this.downlinks.push({ client, fromPort: from.port });
        this.front.send(reply, port, address);
      });
      s.on('error', () => undefined);
      up = new Promise<Socket>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
      this.upstream.set(client, up);
    }
    (await up).send(msg, this.backendPort, '127.0.0.1');
  }
}
