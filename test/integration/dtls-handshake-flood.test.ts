/**
 * A DTLS ClientHello flood from one source address does not starve handshakes from another
 * (DESIGN invariant 5), on real UDP sockets: the flooder (127.0.0.2, many ports) completes the
 * cookie exchange (RFC 6347 §4.2.1) on every port and then sends cookie-verified ClientHellos that
 * would each hold a handshake slot; the engine holds DTLS_MAX_HANDSHAKES = 20 at most. With the
 * per-source handshake rate from the bridge's own wiring (createLimits), the flooder gets its burst
 * and a device on 127.0.0.1 still completes its handshake; without it (the control), the table is
 * full of the flooder's handshakes and the device's is dropped.
 */
import { createSocket, type Socket } from 'node:dgram';
import { loadConfig } from '../../src/config/env';
import { DtlsTransport } from '../../src/dtls/dtls-transport';
import { createLogger } from '../../src/observability/logger';
import { createLimits, type Limits } from '../../src/wiring/limits';
import { handshakeOver, ScriptedPskClient } from '../support/dtls-psk-client';
import { until } from '../support/until';

const KEY = Buffer.alloc(16, 0x5a);
const credentials = { psk: async (identity: string) => ({ key: KEY, endpoint: `ep-${identity}` }) };
const FLOOD_PORTS = 60;
const sockets: Socket[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const c of cleanups.splice(0)) await c();
});

async function socketOn(address: string, port: number): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, () => s.connect(port, '127.0.0.1', () => resolve())));
  sockets.push(s);
  return s;
}

async function server(limits: Limits | undefined): Promise<DtlsTransport> {
  const t = await DtlsTransport.bind({
    host: '127.0.0.1',
    port: 0,
    credentials,
    maxHandshakes: 20,
    ...(limits?.guard !== undefined ? { guard: limits.guard } : {}),
    ...(limits?.admitHandshake !== undefined ? { admitHandshake: limits.admitHandshake } : {}),
  });
  cleanups.push(() => t.close());
  return t;
}

/** From each of `FLOOD_PORTS` ports of 127.0.0.2: ClientHello, then the ClientHello with the cookie; never finishes. */
async function flood(port: number): Promise<void> {
  const done: Array<Promise<void>> = [];
  for (let i = 0; i < FLOOD_PORTS; i++) {
    const s = await socketOn('127.0.0.2', port);
    const client = new ScriptedPskClient({ identity: `flooder-${i}`, key: KEY });
    done.push(
      new Promise<void>((resolve) => {
        s.once('message', (d: Buffer) => {
          for (const out of client.drive(d)) s.send(out); // the cookie-verified ClientHello
          resolve();
        });
      }),
    );
    s.send(client.clientHello());
  }
  await Promise.all(done); // every port got its HelloVerifyRequest and sent the verified ClientHello
}

async function deviceHandshake(port: number, timeoutMs: number): Promise<void> {
  const s = await socketOn('127.0.0.1', port);
  const client = new ScriptedPskClient({ identity: 'device', key: KEY });
  await handshakeOver(client, s, (d) => s.send(d), timeoutMs);
}

it('with the per-source handshake rate, a device completes its handshake through a ClientHello flood from another address', async () => {
  const limits = createLimits(
    loadConfig({ RATE_LIMIT_HANDSHAKE_PER_S: '1', RATE_LIMIT_HANDSHAKE_BURST: '5', RATE_LIMIT_SOURCE_PER_S: '10000' }),
    createLogger('silent'),
  );
  cleanups.push(async () => limits.stop());
  const t = await server(limits);
  await flood(t.local().port);
  // Every verified ClientHello has been taken or refused.
  await until('the flood handled', () =>
    t.dtls.handshakeCount + limits.counters.get('handshake-rate') >= FLOOD_PORTS ? true : undefined,
  );
  expect(t.dtls.handshakeCount).toBeLessThanOrEqual(6); // the burst (and one more token at most)
  await deviceHandshake(t.local().port, 5000);
  expect(t.dtls.connectionCount).toBe(1);
  expect(limits.counters.get('handshake-rate')).toBeGreaterThanOrEqual(FLOOD_PORTS - 6);
}, 20_000);

it('control: without it, the flood fills the handshake table and the device is starved', async () => {
  const t = await server(undefined);
  await flood(t.local().port);
  await until('the handshake table full', () => (t.dtls.handshakeCount >= 20 ? true : undefined));
  await expect(deviceHandshake(t.local().port, 1500)).rejects.toThrow(/did not finish/);
  expect(t.dtls.connectionCount).toBe(0);
}, 20_000);
