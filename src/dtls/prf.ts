/**
 * The TLS 1.2 pseudorandom function with SHA-256 (RFC 5246 §5), and the secrets derived with it:
 * master secret (§8.1, or the extended master secret of RFC 7627 §4), key block (§6.3) and
 * Finished verify_data (§7.4.9). Every suite offered here uses the SHA-256 PRF.
 */
import { createHash, createHmac } from 'node:crypto';

export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out = Buffer.allocUnsafe(length);
  let a = labelSeed;
  let filled = 0;
  while (filled < length) {
    a = createHmac('sha256', secret).update(a).digest();
    const block = createHmac('sha256', secret).update(a).update(labelSeed).digest();
    filled += block.copy(out, filled);
  }
  return out;
}

export function sha256(...parts: readonly Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** master_secret (48 bytes): extended (RFC 7627 §4, over the session hash) when `sessionHash` is given. */
export function masterSecret(
  preMaster: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
  sessionHash?: Buffer,
): Buffer {
  return sessionHash !== undefined
    ? prf(preMaster, 'extended master secret', sessionHash, 48)
    : prf(preMaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

export function keyBlock(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, length: number): Buffer {
  return prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), length);
}

export function finishedVerifyData(master: Buffer, sender: 'client' | 'server', transcriptHash: Buffer): Buffer {
  return prf(master, `${sender} finished`, transcriptHash, 12);
}

/** The PSK premaster secret of RFC 4279 §2: uint16 N, N zero bytes, uint16 N, the key. */
export function pskPreMaster(psk: Buffer): Buffer {
  const n = psk.length;
  const out = Buffer.alloc(4 + 2 * n);
  out.writeUInt16BE(n, 0);
  out.writeUInt16BE(n, 2 + n);
  psk.copy(out, 4 + n);
  return out;
}
