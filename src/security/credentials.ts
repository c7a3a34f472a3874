/**
 * Device credentials, as the `credentials` field of a provisioning record (compacted devices
 * topic) carries them (LwM2M-Core 1.2 §7.1, the Security object's modes):
 *
 *   {"mode": "nosec"}
 *   {"mode": "psk", "identity": "<PSK identity, UTF-8, 1..128 bytes>", "key": "<hex, 1..64 bytes>"}
 *
 * Errors name the field, never its value: a record carries secrets.
 */
import { z } from 'zod';
import type { SecurityMode } from '../server/registration/access';

export type DeviceCredentials = { readonly mode: 'nosec' } | { readonly mode: 'psk'; readonly identity: string; readonly key: Buffer };

const hexKey = z
  .string()
  .regex(/^([0-9a-fA-F]{2}){1,64}$/, 'must be 1 to 64 bytes in hexadecimal');

export const credentialsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('nosec') }).strict(),
  z
    .object({
      mode: z.literal('psk'),
      identity: z.string().min(1).refine((s) => Buffer.byteLength(s, 'utf8') <= 128, 'must be at most 128 bytes'),
      key: hexKey,
    })
    .strict(),
]);

export type CredentialsInput = z.infer<typeof credentialsSchema>;

/** The credentials of a validated record (the schema checked it), in usable form. */
export function deviceCredentials(input: CredentialsInput): DeviceCredentials {
  if (input.mode === 'nosec') return { mode: 'nosec' };
  return { mode: 'psk', identity: input.identity, key: Buffer.from(input.key, 'hex') };
}

export function securityModeOf(input: CredentialsInput | undefined): SecurityMode | undefined {
  return input?.mode;
}

/** The PSK identity a record indexes, if any (for the identity → endpoint lookup). */
export function pskIdentityOf(input: CredentialsInput | undefined): string | undefined {
  return input?.mode === 'psk' ? input.identity : undefined;
}
