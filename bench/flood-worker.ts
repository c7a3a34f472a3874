/**
 * The flooding sources of `npm run bench:flood` (bench/flood.ts), in a worker thread of the
 * bench: each source has its own loopback address (127/8), so that the bridge sees 10 sources,
 * and sends `ratePerSource` datagrams a second, paced every 10 ms:
 * - `random`: random bytes (4-200 bytes) to the CoAP port;
 * - `coap`: valid-looking CON requests to the CoAP port, in turn Register with a made-up endpoint
 *   (a Redis write when admitted), Update of a made-up registration (a Redis lookup) and GET of a
 *   made-up path (4.04);
 * - `dtls`: ClientHellos to the CoAPS port from 8 ports; a port that got a HelloVerifyRequest
 *   sends the ClientHello with the cookie next (a handshake, when admitted), else a new one.
 * Answers are counted per kind. Commands: start, stop (replies with the counts).
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { parentPort } from 'node:worker_threads';
import { encode } from '../src/coap/codec';
import { MessageType, Method } from '../src/coap/message';
import { pathOptions } from '../src/coap/options';
import { ScriptedPskClient } from '../test/support/dtls-psk-client';

export type FloodKind = 'random' | 'coap' | 'dtls';

export type FloodCommand =
  | {
      readonly kind: 'start';
      readonly host: string;
      readonly coapPort: number;
      readonly coapsPort: number;
      readonly ratePerSource: number;
      readonly sources: ReadonlyArray<{ readonly address: string; readonly kind: FloodKind }>;
    }
  | { readonly kind: 'stop' };

export interface FloodCounts {
  readonly sent: Record<FloodKind, number>;
  readonly answered: Record<FloodKind, number>;
}

export type FloodReply =
  | { readonly kind: 'started' }
  | { readonly kind: 'stopped'; readonly counts: FloodCounts; readonly elapsedS: number }
  | { readonly kind: 'error'; readonly message: string };

const DTLS_PORTS = 8;
const TICK_MS = 10;

interface DtlsPort {
  readonly socket: Socket;
  client: ScriptedPskClient;
  /** The ClientHello with the cookie, to send next. */
  verified: Buffer | undefined;
}

interface Source {
  readonly kind: FloodKind;
  readonly sockets: Socket[];
  readonly dtls: DtlsPort[];
  credit: number;
  next: number;
}

let sources: Source[] = [];
let timer: NodeJS.Timeout | undefined;
let startedAt = 0;
const zero = (): Record<FloodKind, number> => ({ random: 0, coap: 0, dtls: 0 });
let sent = zero();
let answered = zero();

async function bound(address: string, port: number, host: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => s.connect(port, host, () => resolve()));
  });
  s.on('error', () => undefined); // ICMP errors under load: ignored, the flood goes on
  return s;
}

let mid = 0;
function coapRequest(i: number): Buffer {
  const r = randomBytes(6).toString('hex');
  const token = randomBytes(4);
  mid = (mid + 1) & 0xffff;
  const base = { type: MessageType.CON, messageId: mid, token };
  if (i % 3 === 0)
    return encode({
      ...base,
      code: Method.POST,
      options: pathOptions(['rd'], [`ep=flood-${r}`, 'lt=300', 'lwm2m=1.1', 'b=U']),
      payload: Buffer.from('</1/0>,</3/0>'),
    });
  if (i % 3 === 1)
    return encode({ ...base, code: Method.POST, options: pathOptions(['rd', r]), payload: Buffer.alloc(0) });
  return encode({ ...base, code: Method.GET, options: pathOptions(['x', r]), payload: Buffer.alloc(0) });
}

function sendOne(s: Source): void {
  const i = s.next++;
  if (s.kind === 'random') {
    (s.sockets[0] as Socket).send(randomBytes(4 + Math.floor(Math.random() * 197)));
  } else if (s.kind === 'coap') {
    (s.sockets[0] as Socket).send(coapRequest(i));
  } else {
    const port = s.dtls[i % s.dtls.length] as DtlsPort;
    if (port.verified !== undefined) {
      port.socket.send(port.verified);
      port.verified = undefined;
    } else {
      port.client = new ScriptedPskClient({ identity: `flood-${i}`, key: Buffer.alloc(16, 1) });
      port.socket.send(port.client.clientHello());
    }
  }
  sent[s.kind]++;
}

let lastTick = 0;
/** Credit by elapsed time, not by tick: a late timer (a busy core) does not lower the rate. */
function tick(rate: number): void {
  const now = performance.now();
  const elapsedMs = Math.min(100, now - lastTick);
  lastTick = now;
  for (const s of sources) {
    s.credit += (rate * elapsedMs) / 1000;
    while (s.credit >= 1) {
      s.credit -= 1;
      sendOne(s);
    }
  }
}

async function start(cmd: Extract<FloodCommand, { kind: 'start' }>): Promise<void> {
  sent = zero();
  answered = zero();
  sources = [];
  for (const src of cmd.sources) {
    const source: Source = { kind: src.kind, sockets: [], dtls: [], credit: 0, next: 0 };
    if (src.kind === 'dtls') {
      for (let k = 0; k < DTLS_PORTS; k++) {
        const socket = await bound(src.address, cmd.coapsPort, cmd.host);
        const port: DtlsPort = {
          socket,
          client: new ScriptedPskClient({ identity: 'flood', key: Buffer.alloc(16, 1) }),
          verified: undefined,
        };
        socket.on('message', (d: Buffer) => {
          answered.dtls++;
          try {
            const out = port.client.drive(d);
            if (out.length > 0) port.verified = out[0];
          } catch {
            // not a datagram this client can read (a flight of an older hello): counted, ignored
          }
        });
        source.dtls.push(port);
      }
    } else {
      const socket = await bound(src.address, cmd.coapPort, cmd.host);
      socket.on('message', () => void answered[src.kind]++);
      source.sockets.push(socket);
    }
    sources.push(source);
  }
  startedAt = performance.now();
  lastTick = startedAt;
  timer = setInterval(() => tick(cmd.ratePerSource), TICK_MS);
}

async function stop(): Promise<FloodReply> {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  const elapsedS = (performance.now() - startedAt) / 1000;
  const all = sources.flatMap((s) => [...s.sockets, ...s.dtls.map((d) => d.socket)]);
  await Promise.all(all.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  sources = [];
  return { kind: 'stopped', counts: { sent, answered }, elapsedS: Math.round(elapsedS * 1000) / 1000 };
}

parentPort?.on('message', (cmd: FloodCommand) => {
  const reply = cmd.kind === 'start' ? start(cmd).then((): FloodReply => ({ kind: 'started' })) : stop();
  reply.then(
    (r) => parentPort?.postMessage(r),
    (err: unknown) => parentPort?.postMessage({ kind: 'error', message: String(err) } satisfies FloodReply),
  );
});
