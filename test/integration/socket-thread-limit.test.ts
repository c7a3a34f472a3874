/**
 * The per-source-address datagram rate on a UDP socket's own thread (src/transport/socket-worker.ts,
 * DESIGN invariant 5), on real sockets: a flooding address is cut to its burst there and the main
 * thread never sees the rest, another address's datagrams pass, and the drops are reported to the
 * main thread. It runs the compiled worker (dist/), as the bridge does: the test command builds first.
 */
import { createSocket, type Socket } from 'node:dgram';
import { SocketThreadTransport } from '../../src/transport/socket-thread';
import { until } from '../support/until';

const sockets: Socket[] = [];
let transport: SocketThreadTransport | undefined;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await transport?.close();
});

async function from(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
  sockets.push(s);
  return s;
}

it('drops a flooding address over its rate on the socket thread, lets another through and reports the drops', async () => {
  let dropped = 0;
  transport = await SocketThreadTransport.bind({
    host: '127.0.0.1',
    port: 0,
    sourceRate: { perSecond: 0.001, burst: 5, maxKeys: 100 },
    onDropped: (n) => void (dropped += n),
  });
  const got: string[] = [];
  transport.onDatagram((data, peer) => void got.push(`${peer.address}:${data.toString()}`));
  const port = transport.local().port;
  const flooder = await from('127.0.0.2');
  const other = await from('127.0.0.3');
  for (let i = 0; i < 100; i++) flooder.send(Buffer.from(`f${i}`), port, '127.0.0.1');
  await until('the flood dropped and reported', () => (dropped === 95 ? true : undefined), 5000);
  other.send(Buffer.from('hello'), port, '127.0.0.1');
  await until('the other source got through', () => (got.includes('127.0.0.3:hello') ? true : undefined));
  expect(got.filter((g) => g.startsWith('127.0.0.2:'))).toEqual(
    ['f0', 'f1', 'f2', 'f3', 'f4'].map((f) => `127.0.0.2:${f}`),
  );
});
