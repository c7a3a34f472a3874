/**
 * A scripted CoAP peer for lockstep tests: a raw node:dgram socket on an ephemeral port that
 * encodes and decodes with our codec. Tests synchronise on received datagrams ("next datagram"
 * queue with an upper-bound timeout), never on sleeps.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decode, encode } from '../../src/coap/codec';
import { EMPTY_BUFFER, MessageType, type CoapMessage } from '../../src/coap/message';
import { CoapEndpoint } from '../../src/coap/endpoint';
import type { TransmissionParams } from '../../src/coap/params';
import { UdpTransport } from '../../src/transport/udp';
import type { Peer } from '../../src/transport/types';

export interface Received {
  readonly msg: CoapMessage;
  readonly raw: Buffer;
  readonly from: Peer;
  /** performance.now() at arrival, for retransmission timing. */
  readonly at: number;
}

/** Raised when no datagram arrived within the wait's upper bound. */
export class NoDatagramError extends Error {}

interface Waiter {
  resolve(r: Received): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

interface Arrival {
  readonly raw: Buffer;
  readonly from: Peer;
  readonly at: number;
}

export const DEFAULT_WAIT_MS = 3000;

export class ScriptedPeer {
  private readonly queue: Arrival[] = [];
  private waiter: Waiter | undefined;
  private closed = false;
  /** Every datagram received, in order (for counts after the fact). */
  readonly log: Arrival[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (raw: Buffer, rinfo) => {
      const arrival: Arrival = { raw, from: { address: rinfo.address, port: rinfo.port }, at: performance.now() };
      this.log.push(arrival);
      const w = this.waiter;
      if (w === undefined) {
        this.queue.push(arrival);
        return;
      }
      this.waiter = undefined;
      clearTimeout(w.timer);
      try {
        w.resolve(toReceived(arrival));
      } catch (err) {
        w.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  static async open(host = '127.0.0.1'): Promise<ScriptedPeer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new ScriptedPeer(socket);
  }

  /** Our address as the endpoint will see it. */
  get address(): Peer {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  send(msg: Partial<CoapMessage> & Pick<CoapMessage, 'type' | 'code'>, to: Peer): CoapMessage {
    const full = coapMessage(msg);
    this.sendRaw(encode(full), to);
    return full;
  }

  sendRaw(buf: Buffer, to: Peer): void {
    this.socket.send(buf, to.port, to.address);
  }

  /** The next datagram (decoded), waiting at most `timeoutMs`. */
  next(timeoutMs = DEFAULT_WAIT_MS): Promise<Received> {
    if (this.waiter !== undefined)
      return Promise.reject(new Error('ScriptedPeer.next called while another wait is pending'));
    const queued = this.queue.shift();
    if (queued !== undefined) {
      try {
        return Promise.resolve(toReceived(queued));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new NoDatagramError(`no datagram within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Skips datagrams until one matches, waiting at most `timeoutMs` in all. */
  async waitFor(pred: (r: Received) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = Math.max(1, deadline - performance.now());
      const r = await this.next(left);
      if (pred(r)) return r;
    }
  }

  /** Fails if any datagram arrives within `windowMs` (a bounded check for "no retransmission"). */
  async expectSilence(windowMs: number): Promise<void> {
    let got: Received;
    try {
      got = await this.next(windowMs);
    } catch (err) {
      if (err instanceof NoDatagramError) return;
      throw err;
    }
    throw new Error(`unexpected datagram ${describeMessage(got.msg)}`);
  }

  /** Sends a CoAP ping and waits for its RST: everything the endpoint sent before is then queued here. */
  async barrier(to: Peer, messageId: number): Promise<Received[]> {
    this.send({ type: MessageType.CON, code: 0, messageId }, to);
    const before: Received[] = [];
    for (;;) {
      const r = await this.next();
      if (r.msg.type === MessageType.RST && r.msg.messageId === messageId) return before;
      before.push(r);
    }
  }

  /** Queued datagrams not yet consumed. */
  get pending(): number {
    return this.queue.length;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.waiter !== undefined) {
      clearTimeout(this.waiter.timer);
      this.waiter.reject(new Error('peer closed'));
      this.waiter = undefined;
    }
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function toReceived(a: Arrival): Received {
  const msg = decode(a.raw);
  if (msg === null) throw new Error(`endpoint sent a datagram with a bad version: ${a.raw.toString('hex')}`);
  return { msg, raw: a.raw, from: a.from, at: a.at };
}

export function coapMessage(partial: Partial<CoapMessage> & Pick<CoapMessage, 'type' | 'code'>): CoapMessage {
  return { messageId: 0, token: EMPTY_BUFFER, options: [], payload: EMPTY_BUFFER, ...partial };
}

const TYPES = ['CON', 'NON', 'ACK', 'RST'];
export function describeMessage(m: CoapMessage): string {
  return `${TYPES[m.type]} ${m.code >> 5}.${String(m.code & 0x1f).padStart(2, '0')} mid=${m.messageId} token=${m.token.toString('hex')}`;
}

/** Small transmission parameters so that retransmission tests take well under a second or two. */
export const FAST: TransmissionParams = { ackTimeoutMs: 50, ackRandomFactor: 1.5, maxRetransmit: 4 };

/** An endpoint on 127.0.0.1 (or `host`), ephemeral port. */
export async function openEndpoint(
  opts: { params?: TransmissionParams; separateResponseDelayMs?: number; host?: string } = {},
): Promise<CoapEndpoint> {
  const transport = await UdpTransport.bind({ host: opts.host ?? '127.0.0.1', port: 0 });
  return new CoapEndpoint({
    transport,
    params: opts.params ?? FAST,
    ...(opts.separateResponseDelayMs !== undefined ? { separateResponseDelayMs: opts.separateResponseDelayMs } : {}),
  });
}

/** The endpoint's address for a peer bound to `host` (an endpoint bound to "::" is reached via loopback). */
export function endpointAddress(ep: CoapEndpoint, host = '127.0.0.1'): Peer {
  return { address: host, port: ep.local().port };
}
