/**
 * The entry of a UDP socket's own thread (worker_threads), driven by SocketThreadTransport
 * (socket-thread.ts). The socket is a UdpTransport; what it receives goes to the main thread in
 * batches (socket-thread-protocol.ts), and each batch from the main thread is sent in order. A
 * datagram that cannot be sent (a bad destination) is reported and skipped, never fatal.
 */
import { parentPort } from 'node:worker_threads';
import { BatchOutbox, eachDatagram, type FromSocketThread, type ToSocketThread } from './socket-thread-protocol';
import { TokenBuckets } from './token-buckets';
import { displayAddress } from './types';
import { UdpTransport } from './udp';
import { errorMessage } from '../common/error-message';

const port = parentPort;
if (port === null) throw new Error('socket-worker.js runs as a worker thread only');

const post = (m: FromSocketThread, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
let socket: UdpTransport | undefined;
let received: BatchOutbox | undefined;

port.on('message', (m: ToSocketThread) => {
  switch (m.type) {
    case 'bind':
      UdpTransport.bind({ ...m.options, onError: (err) => post({ type: 'error', message: err.message }) }).then(
        (s) => {
          socket = s;
          const outbox = new BatchOutbox((batch, transfer) => {
            post({ type: 'datagrams', ...batch }, transfer);
            return true;
          }, m.intervalMs);
          received = outbox;
          const rate = m.options.sourceRate;
          if (rate === undefined || rate.perSecond <= 0) s.onDatagram((data, peer) => outbox.push(data, peer));
          else {
            // Over its source's rate, a datagram is dropped here: the main thread never sees it.
            const buckets = new TokenBuckets(rate, rate.maxKeys);
            let dropped = 0;
            s.onDatagram((data, peer) => {
              if (buckets.take(displayAddress(peer.address))) outbox.push(data, peer);
              else dropped++;
            });
            setInterval(() => {
              if (dropped === 0) return;
              post({ type: 'dropped', count: dropped });
              dropped = 0;
            }, 1000).unref();
          }
          const local = s.local();
          post({ type: 'bound', address: local.address, port: local.port });
        },
        (err: unknown) => post({ type: 'bind-failed', message: errorMessage(err) }),
      );
      return;
    case 'send': {
      const s = socket;
      if (s === undefined) return;
      eachDatagram(m, (data, peer) => {
        try {
          s.send(data, peer);
        } catch (err) {
          post({ type: 'error', message: `datagram to ${peer.address}:${peer.port} not sent: ${errorMessage(err)}` });
        }
      });
      return;
    }
    case 'close':
      received?.flush();
      void (socket?.close() ?? Promise.resolve()).then(() => post({ type: 'closed' }));
      return;
  }
});
