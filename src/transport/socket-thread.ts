/**
 * A UDP socket on a thread of its own (worker_threads), as a DatagramTransport. The system calls
 * (one sendmsg per datagram, the receives) and dgram's per-datagram work run beside the main
 * thread instead of on it; datagrams cross in batches (socket-thread-protocol.ts), by default one
 * message per event-loop turn each way. Order is kept in each direction.
 *
 * A thread that dies is started again on the same port; what was sent meanwhile waits for it.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from '../common/worker-script';
import {
  BatchOutbox,
  eachDatagram,
  type FromSocketThread,
  type SocketThreadOptions,
  type ToSocketThread,
} from './socket-thread-protocol';
import type { DatagramHandler, DatagramTransport, Peer } from './types';
import type { UdpTransportOptions } from './udp';
import { errorMessage } from '../common/error-message';

export interface SocketThreadTransportOptions extends UdpTransportOptions {
  /** The worker script; default: socket-worker.js beside this module, or in dist/ from the sources. */
  readonly script?: string;
  /** Batches cross at most once per interval each way under load (socket-thread-protocol.ts). Default 0: once per event-loop turn. */
  readonly batchIntervalMs?: number;
  /** Per-source-address datagram rate applied on the socket's thread (socket-thread-protocol.ts). */
  readonly sourceRate?: SocketThreadOptions['sourceRate'];
  /** Datagrams the socket's thread dropped over their source's rate, reported at most once a second. */
  readonly onDropped?: (count: number) => void;
}

const intervalOf = (opts: SocketThreadTransportOptions): number => opts.batchIntervalMs ?? 0;

export class SocketThreadTransport implements DatagramTransport {
  private handler: DatagramHandler = () => undefined;
  private readonly outgoing: BatchOutbox;
  private worker: Worker | undefined;
  private bound: Peer;
  private closing = false;

  private constructor(
    private readonly opts: SocketThreadTransportOptions,
    private readonly script: string,
    first: { worker: Worker; local: Peer },
  ) {
    this.bound = first.local;
    this.outgoing = new BatchOutbox((batch, transfer) => {
      if (this.worker === undefined) return false;
      this.worker.postMessage({ type: 'send', ...batch } satisfies ToSocketThread, transfer);
      return true;
    }, intervalOf(opts));
    this.adopt(first.worker);
  }

  static async bind(opts: SocketThreadTransportOptions): Promise<SocketThreadTransport> {
    const script =
      opts.script ?? workerScript(__dirname, 'socket-worker.js', 'a UDP socket thread (or set UDP_SOCKET_THREAD=none)');
    return new SocketThreadTransport(
      opts,
      script,
      await start(script, socketOptions(opts, opts.port), intervalOf(opts)),
    );
  }

  send(data: Buffer, peer: Peer): void {
    if (this.closing) return;
    this.outgoing.push(data, peer);
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  local(): Peer {
    return this.bound;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.outgoing.flush();
    this.closing = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      worker.on('message', (m: FromSocketThread) => m.type === 'closed' && resolve());
      worker.on('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies ToSocketThread);
    });
    await worker.terminate();
  }

  private adopt(worker: Worker): void {
    this.worker = worker;
    worker.on('error', (err: Error) => this.opts.onError?.(new Error(`UDP socket thread failed: ${err.message}`)));
    worker.on('message', (m: FromSocketThread) => {
      if (m.type === 'datagrams') eachDatagram(m, this.handler);
      else if (m.type === 'error') this.opts.onError?.(new Error(m.message));
      else if (m.type === 'dropped') this.opts.onDropped?.(m.count);
    });
    worker.on('exit', (code) => {
      if (this.closing || this.worker !== worker) return;
      this.worker = undefined;
      this.opts.onError?.(
        new Error(`UDP socket thread exited (code ${code}); starting it again on port ${this.bound.port}`),
      );
      this.restart();
    });
    this.outgoing.flush();
  }

  private restart(): void {
    start(this.script, socketOptions(this.opts, this.bound.port), intervalOf(this.opts)).then(
      ({ worker, local }) => {
        if (this.closing) return void worker.terminate();
        this.bound = local;
        this.adopt(worker);
      },
      (err: unknown) => {
        this.opts.onError?.(new Error(`UDP socket thread not started again: ${errorMessage(err)}`));
        if (!this.closing) setTimeout(() => this.restart(), 1000).unref();
      },
    );
  }
}

function socketOptions(opts: SocketThreadTransportOptions, port: number): SocketThreadOptions {
  return {
    host: opts.host,
    port,
    ...(opts.sourceRate !== undefined ? { sourceRate: opts.sourceRate } : {}),
    ...(opts.recvBufferSize !== undefined ? { recvBufferSize: opts.recvBufferSize } : {}),
    ...(opts.sendBufferSize !== undefined ? { sendBufferSize: opts.sendBufferSize } : {}),
  };
}

/** A worker with its socket bound, or the bind error. */
function start(
  script: string,
  options: SocketThreadOptions,
  intervalMs: number,
): Promise<{ worker: Worker; local: Peer }> {
  const worker = new Worker(script);
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      void worker.terminate();
      reject(err);
    };
    worker.once('error', fail);
    worker.on('message', function first(m: FromSocketThread) {
      if (m.type !== 'bound' && m.type !== 'bind-failed') return;
      worker.off('message', first);
      worker.off('error', fail);
      if (m.type === 'bound') resolve({ worker, local: { address: m.address, port: m.port } });
      else fail(new Error(m.message));
    });
    worker.postMessage({ type: 'bind', options, intervalMs } satisfies ToSocketThread);
  });
}
