/**
 * A simulated device: one UDP socket (its own source address and port, which is how the server
 * identifies the sender of a Send), connected to the server so that sends skip address lookup
 * and the kernel filters datagrams from elsewhere.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Target } from './protocol';

export interface Device {
  readonly index: number;
  readonly socket: Socket;
  /** The request frame being sent; its Message ID is patched for each request. */
  frame: Buffer;
  mid: number;
  busy: boolean;
  /** An empty ACK came; the response will follow separately. */
  acked: boolean;
  sentAt: number;
  location: string | undefined;
  attempts: number;
}

/** Where a device's datagrams go: the closed loop currently running in this worker. */
export type DatagramSink = (device: Device, buf: Buffer) => void;

export async function openDevice(index: number, bindAddress: string, target: Target, sink: () => DatagramSink): Promise<Device> {
  const socket = createSocket({ type: 'udp4' });
  const device: Device = { index, socket, frame: Buffer.alloc(0), mid: randomMid(), busy: false, acked: false, sentAt: 0, location: undefined, attempts: 0 };
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, bindAddress, () => {
      socket.connect(target.port, target.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  });
  socket.on('message', (buf: Buffer) => sink()(device, buf));
  // ICMP errors on a connected socket surface here; the request then times out.
  socket.on('error', () => undefined);
  return device;
}

export async function openDevices(first: number, count: number, bindAddress: string, target: Target, sink: () => DatagramSink): Promise<Device[]> {
  const out: Device[] = [];
  const PARALLEL = 500;
  for (let i = 0; i < count; i += PARALLEL) {
    const n = Math.min(PARALLEL, count - i);
    const batch = await Promise.all(Array.from({ length: n }, (_, k) => openDevice(first + i + k, bindAddress, target, sink)));
    out.push(...batch);
  }
  return out;
}

export async function closeDevices(devices: readonly Device[]): Promise<void> {
  await Promise.all(devices.map((d) => new Promise<void>((resolve) => d.socket.close(() => resolve()))));
}

function randomMid(): number {
  return Math.floor(Math.random() * 0x10000);
}
