/**
 * An in-memory datagram pair for socket-free tests of everything above the transport (the CoAP
 * endpoint, the LwM2M server): `server` implements DatagramTransport and is given to the code
 * under test; the test drives the other end, the device side.
 *
 *   device → server   deviceSend(buf, from, identity?) delivers `buf` to the server's handler as
 *                     coming from `from` (authenticated as `identity`, as the DTLS transport does).
 *   server → device   every server.send(buf, peer) is recorded at once in `log` (a capture at the
 *                     server's interface, dropped datagrams included) and then delivered to the
 *                     device's queue with the peer it was addressed to: next() / take() / pending.
 *
 * Like a socket, delivery is asynchronous in both directions, one macrotask per datagram and in
 * order: a send never calls the receiving side re-entrantly. It goes through node:timers'
 * setImmediate, which jest's fake timers do not replace, so a test may fake the clock (CoAP
 * retransmissions) and still exchange datagrams; the same holds for next()'s time limit.
 * settle() resolves once nothing is in flight and every promise chain that depends only on
 * deliveries has run: the check for "nothing was sent" is `await settle()`, then `take()`.
 *
 * Faults: drop(direction, n) loses the next n datagrams in that direction, duplicate(direction,
 * n) delivers each of the next n twice. Closing either side (server.close() or close()) stops
 * delivery both ways: what is in flight is lost, later sends go nowhere (as UdpTransport ignores
 * sends after close), and a pending next() is rejected.
 *
 * sendCoap(), nextCoap() and received() are conveniences over deviceSend(), next() and take()
 * with our CoAP codec.
 */
import { clearImmediate, clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { decode, encode } from '../../src/coap/codec';
import type { CoapMessage } from '../../src/coap/message';
import type { DatagramHandler, DatagramTransport, Peer, PeerIdentity } from '../../src/transport/types';
import { NoDatagramError, coapMessage } from './scripted-peer';

/** The server side's own address, as local() reports it (TEST-NET-1, RFC 5737). */
export const SERVER_PEER: Peer = { address: '192.0.2.1', port: 5683 };
/** The device's default source address (TEST-NET-2). */
export const DEVICE_PEER: Peer = { address: '198.51.100.7', port: 56830 };

/** A datagram the server sent, with the peer it addressed it to. */
export interface Datagram {
  readonly data: Buffer;
  readonly peer: Peer;
}

/** A datagram the server sent, decoded. */
export interface CoapDatagram extends Datagram {
  readonly msg: CoapMessage;
}

export type Direction = 'to-server' | 'to-device';

const DEFAULT_WAIT_MS = 500;

interface Waiter {
  resolve(d: Datagram): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class MemoryDatagramPair {
  /** The side given to the code under test. */
  readonly server: DatagramTransport;
  /** Every datagram the server sent, in order, at the moment it sent it (lost ones included). */
  readonly log: Datagram[] = [];
  /** Datagrams lost to drop(), per direction. */
  readonly lost: Record<Direction, number> = { 'to-server': 0, 'to-device': 0 };
  private handler: DatagramHandler | undefined;
  private readonly queue: Datagram[] = [];
  private waiter: Waiter | undefined;
  private readonly inFlight = new Set<NodeJS.Immediate>();
  private readonly drops: Record<Direction, number> = { 'to-server': 0, 'to-device': 0 };
  private readonly duplicates: Record<Direction, number> = { 'to-server': 0, 'to-device': 0 };
  private closed = false;
  private nextMid = 0x4000;

  constructor(local: Peer = SERVER_PEER) {
    this.server = {
      send: (data, peer) => this.serverSend(data, peer),
      onDatagram: (handler) => {
        this.handler = handler;
      },
      local: () => local,
      close: () => this.close(),
    };
  }

  /** Sends `data` from the device, as `from` (authenticated as `identity` when given). */
  deviceSend(data: Buffer, from: Peer = DEVICE_PEER, identity?: PeerIdentity): void {
    if (this.closed) return;
    this.transmit('to-server', () => this.handler?.(data, from, identity));
  }

  /** Encodes and sends a CoAP message from the device; a Message ID is assigned when none is given. */
  sendCoap(
    partial: Partial<CoapMessage> & Pick<CoapMessage, 'type' | 'code'>,
    from: Peer = DEVICE_PEER,
    identity?: PeerIdentity,
  ): CoapMessage {
    const msg = coapMessage({ messageId: this.nextMid++ & 0xffff, ...partial });
    this.deviceSend(encode(msg), from, identity);
    return msg;
  }

  /** The next datagram the server sent (oldest first), waiting at most `timeoutMs` for it. */
  next(timeoutMs = DEFAULT_WAIT_MS): Promise<Datagram> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(new Error('the pair is closed'));
    if (this.waiter !== undefined) return Promise.reject(new Error('next() called while another next() is pending'));
    return new Promise<Datagram>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new NoDatagramError(`the server sent nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** next(), decoded with our CoAP codec. */
  async nextCoap(timeoutMs = DEFAULT_WAIT_MS): Promise<CoapDatagram> {
    return coapOf(await this.next(timeoutMs));
  }

  /** Every datagram delivered to the device and not yet read, oldest first; empties the queue. */
  take(): Datagram[] {
    return this.queue.splice(0);
  }

  /** settle(), then take(), decoded: everything the server has sent so far and the test not yet read. */
  async received(): Promise<CoapDatagram[]> {
    await this.settle();
    return this.take().map(coapOf);
  }

  /** Delivered to the device and not yet read. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once no datagram is in flight and the promise chains they started have run. */
  async settle(): Promise<void> {
    do {
      await new Promise<void>((resolve) => setImmediate(resolve));
    } while (this.inFlight.size > 0);
  }

  /** Loses the next `count` datagrams sent in `direction`. */
  drop(direction: Direction, count = 1): void {
    this.drops[direction] += count;
  }

  /** Delivers each of the next `count` datagrams sent in `direction` twice. */
  duplicate(direction: Direction, count = 1): void {
    this.duplicates[direction] += count;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes both sides: stops delivery, cancels what is in flight, rejects a pending next(). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const handle of this.inFlight) clearImmediate(handle);
    this.inFlight.clear();
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) {
      clearTimeout(w.timer);
      w.reject(new Error('the pair was closed while waiting for a datagram'));
    }
    return Promise.resolve();
  }

  private serverSend(data: Buffer, peer: Peer): void {
    if (this.closed) return;
    const d: Datagram = { data, peer };
    this.log.push(d);
    this.transmit('to-device', () => this.arrive(d));
  }

  private transmit(direction: Direction, deliver: () => void): void {
    if (this.drops[direction] > 0) {
      this.drops[direction]--;
      this.lost[direction]++;
      return;
    }
    let copies = 1;
    if (this.duplicates[direction] > 0) {
      this.duplicates[direction]--;
      copies = 2;
    }
    for (let i = 0; i < copies; i++) {
      const handle = setImmediate(() => {
        this.inFlight.delete(handle);
        if (!this.closed) deliver();
      });
      this.inFlight.add(handle);
    }
  }

  private arrive(d: Datagram): void {
    const w = this.waiter;
    if (w === undefined) {
      this.queue.push(d);
      return;
    }
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(d);
  }
}

/** Decodes a datagram the server sent; one our codec would ignore (bad version) fails the test. */
export function coapOf(d: Datagram): CoapDatagram {
  const msg = decode(d.data);
  if (msg === null) throw new Error(`the server sent a datagram with a bad CoAP version: ${d.data.toString('hex')}`);
  return { ...d, msg };
}
