/**
 * A simulated device: one UDP socket (its own source address and port, which is how the server
 * identifies the sender of a Send), connected to the server so that sends skip address lookup
 * and the kernel filters datagrams from elsewhere. With `dtls`, the device first makes a PSK
 * handshake (CoAPS) and then every datagram goes through its DTLS connection both ways.
 */
import { createSocket } from 'node:dgram';
import { handshakeOver, ScriptedPskClient } from '../test/support/dtls-psk-client';
import type { Target } from './protocol';

/** What the device's CoAP side sends through: the socket itself, or its DTLS connection. */
export interface DeviceSocket {
  send(buf: Buffer): void;
  close(callback?: () => void): void;
}

/** PSK of the devices of a DTLS run: identity = endpoint name, key derived from it (bench/dtls-echo-server.ts benchKey). */
export interface DeviceDtls {
  readonly endpointPrefix: string;
  readonly key: (identity: string) => Buffer;
}

export interface Device {
  readonly index: number;
  socket: DeviceSocket;
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

export async function openDevice(
  index: number,
  bindAddress: string,
  target: Target,
  sink: () => DatagramSink,
  dtls?: DeviceDtls,
): Promise<Device> {
  const socket = createSocket({ type: 'udp4' });
  const device: Device = {
    index,
    socket,
    frame: Buffer.alloc(0),
    mid: randomMid(),
    busy: false,
    acked: false,
    sentAt: 0,
    location: undefined,
    attempts: 0,
  };
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, bindAddress, () => {
      socket.connect(target.port, target.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  });
  // ICMP errors on a connected socket surface here; the request then times out.
  socket.on('error', () => undefined);
  if (dtls === undefined) {
    socket.on('message', (buf: Buffer) => sink()(device, buf));
    return device;
  }
  const identity = `${dtls.endpointPrefix}${index}`;
  const client = new ScriptedPskClient({ identity, key: dtls.key(identity), suites: [0xc0a8] });
  await handshakeOver(client, socket, (d) => socket.send(d));
  device.socket = { send: (buf) => socket.send(client.seal(buf)), close: (cb) => socket.close(cb) };
  socket.on('message', (buf: Buffer) => {
    for (const plain of client.unseal(buf)) sink()(device, plain);
  });
  return device;
}

export async function openDevices(
  first: number,
  count: number,
  bindAddress: string,
  target: Target,
  sink: () => DatagramSink,
  dtls?: DeviceDtls,
): Promise<Device[]> {
  const out: Device[] = [];
  const PARALLEL = dtls === undefined ? 500 : 100;
  for (let i = 0; i < count; i += PARALLEL) {
    const n = Math.min(PARALLEL, count - i);
    const batch = await Promise.all(
      Array.from({ length: n }, (_, k) => openDevice(first + i + k, bindAddress, target, sink, dtls)),
    );
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
