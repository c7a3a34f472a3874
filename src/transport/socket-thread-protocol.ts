/**
 * Messages between a UDP socket on its own thread (socket-worker.ts) and the transport that
 * drives it (socket-thread.ts). Datagrams cross in batches: their bytes packed in one transferred
 * ArrayBuffer (no copy across), addresses and ports beside.
 *
 * A message to a thread that sleeps costs the sender a wake-up (about 10 µs here), whatever the
 * batch holds. So a batch leaves at once when the last one left at least `intervalMs` ago, and
 * otherwise when that interval is over: under load at most one message per interval each way,
 * and no added delay when traffic is light.
 */
import { performance } from 'node:perf_hooks';
import type { Peer } from './types';

export interface DatagramBatch {
  readonly bytes: ArrayBuffer;
  readonly lengths: readonly number[];
  readonly addresses: readonly string[];
  readonly ports: readonly number[];
}

export interface SocketThreadOptions {
  readonly host: string;
  readonly port: number;
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
  /**
   * A per-source-address datagram rate applied on the socket's thread (DESIGN invariant 5): a
   * datagram over it is dropped there and never crosses to the main thread; drops are reported
   * in `dropped` messages, at most one a second.
   */
  readonly sourceRate?: { readonly perSecond: number; readonly burst: number; readonly maxKeys: number };
}

export type ToSocketThread =
  | { readonly type: 'bind'; readonly options: SocketThreadOptions; readonly intervalMs: number }
  | ({ readonly type: 'send' } & DatagramBatch)
  | { readonly type: 'close' };

export type FromSocketThread =
  | { readonly type: 'bound'; readonly address: string; readonly port: number }
  | { readonly type: 'bind-failed'; readonly message: string }
  | ({ readonly type: 'datagrams' } & DatagramBatch)
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'dropped'; readonly count: number }
  | { readonly type: 'closed' };

/** Datagrams gathered, then taken as one batch. */
class BatchBuilder {
  private parts: Buffer[] = [];
  private addresses: string[] = [];
  private ports: number[] = [];
  private size = 0;

  get length(): number {
    return this.parts.length;
  }

  push(data: Buffer, peer: Peer): void {
    this.parts.push(data);
    this.addresses.push(peer.address);
    this.ports.push(peer.port);
    this.size += data.length;
  }

  /** The batch, and the buffer to transfer with it; the builder starts empty again. */
  take(): { batch: DatagramBatch; transfer: ArrayBuffer[] } {
    // allocUnsafeSlow: a buffer of its own, never a slice of the shared pool, so it can be transferred.
    const packed = Buffer.allocUnsafeSlow(this.size);
    let pos = 0;
    const lengths = this.parts.map((p) => {
      p.copy(packed, pos);
      pos += p.length;
      return p.length;
    });
    const bytes = packed.buffer as ArrayBuffer;
    const batch = { bytes, lengths, addresses: this.addresses, ports: this.ports };
    this.parts = [];
    this.addresses = [];
    this.ports = [];
    this.size = 0;
    return { batch, transfer: [bytes] };
  }
}

/** Datagrams to the other thread, batched as described above. */
export class BatchOutbox {
  private readonly builder = new BatchBuilder();
  private lastSent = -Infinity;
  private scheduled = false;

  constructor(
    /** Sends a batch; false when it cannot now (it stays, for the next flush). */
    private readonly post: (batch: DatagramBatch, transfer: ArrayBuffer[]) => boolean,
    private readonly intervalMs: number,
  ) {}

  push(data: Buffer, peer: Peer): void {
    this.builder.push(data, peer);
    if (this.scheduled) return;
    this.scheduled = true;
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), wait);
  }

  /** Sends what is gathered now. */
  flush(): void {
    this.scheduled = false;
    if (this.builder.length === 0) return;
    const { batch, transfer } = this.builder.take();
    if (!this.post(batch, transfer)) return this.keep(batch);
    this.lastSent = performance.now();
  }

  private keep(batch: DatagramBatch): void {
    eachDatagram(batch, (data, peer) => this.builder.push(data, peer));
  }
}

/** Each datagram of a batch, as a view on the batch's bytes. */
export function eachDatagram(batch: DatagramBatch, fn: (data: Buffer, peer: Peer) => void): void {
  let pos = 0;
  for (let i = 0; i < batch.lengths.length; i++) {
    const length = batch.lengths[i] as number;
    fn(Buffer.from(batch.bytes, pos, length), {
      address: batch.addresses[i] as string,
      port: batch.ports[i] as number,
    });
    pos += length;
  }
}
