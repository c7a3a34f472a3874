/** The PSK of a benchmark device: derived from its identity, so that both sides know it without exchanging it. */
import { createHash } from 'node:crypto';

export function benchKey(identity: string): Buffer {
  return createHash('sha256').update(`bench key ${identity}`).digest().subarray(0, 16);
}
