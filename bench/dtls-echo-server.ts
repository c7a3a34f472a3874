/**
 * The DTLS server of the handshake benchmark, as its own process: src/dtls/dtls-transport.ts
 * on 127.0.0.1 port 0 (cookies, connection IDs, the bridge's engine), PSK identities
 * "bench-0".."bench-<n-1>" each with its own key, and for ECDHE_ECDSA a fresh P-256 server key
 * with every client raw public key accepted; application data echoed. Prints
 * {"port": N} once listening, then on SIGUSR2 its counters as one JSON line.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { DtlsTransport } from '../src/dtls/dtls-transport';
import { benchKey } from './dtls-keys';

async function main(): Promise<void> {
  let done = 0;
  let failed = 0;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const t = await DtlsTransport.bind({
    host: '127.0.0.1',
    port: 0,
    recvBufferSize: 8 << 20,
    sendBufferSize: 8 << 20,
    credentials: {
      psk: async (identity) =>
        identity.startsWith('bench-') ? { key: benchKey(identity), endpoint: identity } : undefined,
      rpk: async () => ({ endpoint: 'bench-rpk' }),
    },
    serverIdentity: {
      privateKey,
      publicKeyDer: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
      chain: [],
    },
    onEvent: (e) => {
      if (e.type === 'handshake-done') done++;
      else if (e.type === 'handshake-failed') failed++;
    },
  });
  t.onDatagram((data, peer) => t.send(data, peer));
  process.on('SIGUSR2', () =>
    process.stdout.write(
      `${JSON.stringify({ done, failed, connections: t.dtls.connectionCount, cpu: process.cpuUsage() })}\n`,
    ),
  );
  process.on('SIGTERM', () => void t.close().then(() => process.exit(0)));
  process.stdout.write(`${JSON.stringify({ port: t.local().port })}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`dtls echo server failed: ${String(err)}\n`);
    process.exit(1);
  });
}
