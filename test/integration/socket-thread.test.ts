/**
 * The UDP socket on its own thread (src/transport/socket-thread.ts), on real sockets on port 0:
 * datagrams in and out in order, batches under load, IPv4 peers of a dual-stack socket, a clear
 * bind error, a clean close, and a thread that dies started again on the same port.
 * It runs the compiled worker (dist/), as the bridge does: the test command builds first.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SocketThreadTransport } from '../../src/transport/socket-thread';
import type { Peer } from '../../src/transport/types';
import { until } from '../support/until';

interface Client {
  readonly socket: Socket;
  readonly received: Array<{ data: Buffer; from: RemoteInfo }>;
}

const open: Array<{ close(): unknown }> = [];

async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<Client> {
  const socket = createSocket(type);
  const received: Client['received'] = [];
  socket.on('message', (data, from) => received.push({ data, from }));
  await new Promise<void>((r) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r));
  open.push({ close: () => socket.close() });
  return { socket, received };
}

async function transport(
  opts: { host?: string; port?: number; script?: string; onError?: (err: Error) => void } = {},
): Promise<SocketThreadTransport> {
  const t = await SocketThreadTransport.bind({
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    ...(opts.script !== undefined ? { script: opts.script } : {}),
    ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
  });
  open.push(t);
  return t;
}

afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

describe('UDP socket on its own thread', () => {
  it('binds port 0 and reports where, receives datagrams with their sender, and answers each in order', async () => {
    const t = await transport();
    expect(t.local().address).toBe('127.0.0.1');
    expect(t.local().port).toBeGreaterThan(0);
    const got: Array<{ data: Buffer; peer: Peer }> = [];
    t.onDatagram((data, peer) => {
      got.push({ data: Buffer.from(data), peer });
      t.send(Buffer.concat([Buffer.from('re:'), data]), peer);
    });
    const c = await client();
    // Bursts of 100 (a socket's default receive buffer holds a few hundred small datagrams; more
    // would be dropped by the kernel, which is UDP, not the transport), 20 of them.
    const count = 2000;
    for (let i = 0; i < count; i += 100) {
      for (let k = i; k < i + 100; k++) c.socket.send(Buffer.from(`m${k}`), t.local().port, '127.0.0.1');
      await until(`the answers to burst ${i / 100}`, () => (c.received.length >= i + 100 ? true : undefined));
    }
    expect(got.map((g) => g.data.toString())).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
    expect(new Set(got.map((g) => `${g.peer.address}:${g.peer.port}`))).toEqual(
      new Set([`127.0.0.1:${c.socket.address().port}`]),
    );
    // Loopback keeps order, and so does each crossing between the threads.
    expect(c.received.map((r) => r.data.toString())).toEqual(Array.from({ length: count }, (_, i) => `re:m${i}`));
    expect(c.received.every((r) => r.from.port === t.local().port)).toBe(true);
  });

  it('a datagram of every size up to 60 KB crosses unchanged both ways (batches pack them side by side)', async () => {
    const t = await transport();
    t.onDatagram((data, peer) => t.send(data, peer));
    const c = await client();
    const sizes = [0, 1, 13, 1024, 1500, 60_000];
    const sent = sizes.map((n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff)));
    for (const d of sent) c.socket.send(d, t.local().port, '127.0.0.1');
    await until('every echo', () => (c.received.length >= sent.length ? true : undefined));
    expect(c.received.map((r) => r.data)).toEqual(sent);
  });

  it('a dual-stack socket on "::" reaches IPv4 peers (sent to their ::ffff: form)', async () => {
    let t: SocketThreadTransport;
    try {
      t = await transport({ host: '::' });
    } catch (err) {
      // No IPv6 stack here: the bind error says so (not a pass).
      expect(String(err)).toMatch(/EAFNOSUPPORT|EADDRNOTAVAIL/);
      return;
    }
    const peers: Peer[] = [];
    t.onDatagram((data, peer) => {
      peers.push(peer);
      t.send(data, { address: peer.address.replace(/^::ffff:/, ''), port: peer.port });
    });
    const c = await client();
    c.socket.send(Buffer.from('v4'), t.local().port, '127.0.0.1');
    await until('the echo', () => c.received[0]);
    expect(peers[0]?.address).toBe('::ffff:127.0.0.1');
    expect(c.received[0]?.data.toString()).toBe('v4');
  });

  it('a datagram to a destination that cannot be sent to is reported, and the thread goes on', async () => {
    const errors: string[] = [];
    const t = await transport({ onError: (err) => errors.push(err.message) });
    t.onDatagram((data, peer) => t.send(data, peer));
    t.send(Buffer.from('nowhere'), { address: '127.0.0.1', port: 0 });
    await until('the error reported', () => errors.find((e) => e.includes('127.0.0.1:0 not sent')));
    const c = await client();
    c.socket.send(Buffer.from('still here'), t.local().port, '127.0.0.1');
    await until('the echo', () => c.received[0]);
    expect(c.received[0]?.data.toString()).toBe('still here');
  });

  it('a port in use is a bind error naming it', async () => {
    const taken = await client();
    const port = taken.socket.address().port;
    await expect(SocketThreadTransport.bind({ host: '127.0.0.1', port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('close ends the thread: nothing more is received, and the port is free again', async () => {
    const t = await transport();
    const port = t.local().port;
    let seen = 0;
    t.onDatagram(() => seen++);
    await t.close();
    const c = await client();
    c.socket.send(Buffer.from('late'), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(0);
    const again = await transport({ port });
    expect(again.local().port).toBe(port);
  });

  it('a thread that dies is started again on the same port, says so, and what was sent meanwhile still goes out', async () => {
    // A worker that runs the real socket worker and exits when asked to send the datagram "die".
    const dir = mkdtempSync(join(tmpdir(), 'socket-worker-'));
    const script = join(dir, 'dying-socket-worker.js');
    const real = resolve(__dirname, '..', '..', 'dist', 'src', 'transport', 'socket-worker.js');
    writeFileSync(
      script,
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (m) => {
         if (m.type === 'send' && Buffer.from(m.bytes).toString().includes('die')) process.exit(7);
       });
       require(${JSON.stringify(real)});`,
    );
    try {
      const errors: string[] = [];
      const t = await transport({ script, onError: (err) => errors.push(err.message) });
      const port = t.local().port;
      const c = await client();
      let last: Peer | undefined;
      t.onDatagram((data, peer) => {
        last = peer;
        t.send(Buffer.from(`re:${data.toString()}`), peer);
      });
      c.socket.send(Buffer.from('one'), port, '127.0.0.1');
      await until('the first answer', () => c.received[0]);
      t.send(Buffer.from('die'), last as Peer);
      await until('the restart reported', () => errors.find((e) => /exited \(code 7\)/.test(e)));
      t.send(Buffer.from('after'), last as Peer);
      // A datagram that arrives before the new thread has bound the port is lost, as UDP loses it:
      // the device sends again (here every 100 ms) until it is answered.
      await until(
        'an answer from the new thread',
        () => {
          if (c.received.some((r) => r.data.toString() === 're:two')) return true;
          c.socket.send(Buffer.from('two'), port, '127.0.0.1');
          return undefined;
        },
        10_000,
        100,
      );
      await until('the datagram sent while the thread was down', () =>
        c.received.some((r) => r.data.toString() === 'after') ? true : undefined,
      );
      expect(t.local().port).toBe(port);
      expect(new Set(c.received.map((r) => r.data.toString()))).toEqual(new Set(['re:one', 'after', 're:two']));
      expect(errors.some((e) => e.includes(`port ${port}`))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
