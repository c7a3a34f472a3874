/**
 * Device credentials, as the `credentials` field of a provisioning record (compacted devices
 * topic) carries them (LwM2M-Core 1.2 §7.1, the Security object's modes):
 *
 *   {"mode": "nosec"}
 *   {"mode": "psk", "identity": "<PSK identity, UTF-8, 1..128 bytes>", "key": "<hex, 1..64 bytes>"}
 *   {"mode": "rpk", "publicKey": "<SubjectPublicKeyInfo: PEM, or DER in base64>"}      (RFC 7250)
 *   {"mode": "x509", "commonName": "<certificate CN>"}   commonName optional: default the endpoint
 *
 * Each record is found by what a handshake knows: the PSK identity, the SHA-256 of the raw public
 * key's DER, or the certificate's CN (credentialKey). Errors name the field, never its value.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { z } from 'zod';

export type DeviceCredentials =
  | { readonly mode: 'nosec' }
  | { readonly mode: 'psk'; readonly identity: string; readonly key: Buffer }
  | { readonly mode: 'rpk'; readonly publicKey: Buffer }
  | { readonly mode: 'x509'; readonly commonName?: string };

/** The SubjectPublicKeyInfo DER of a PEM or base64-DER public key, or undefined when unusable. */
export function publicKeyDer(text: string): Buffer | undefined {
  try {
    const key = text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' ? key.export({ format: 'der', type: 'spki' }) : undefined;
  } catch {
    return undefined;
  }
}

export const credentialsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('nosec') }).strict(),
  z
    .object({
      mode: z.literal('psk'),
      identity: z
        .string()
        .min(1)
        .refine((s) => Buffer.byteLength(s, 'utf8') <= 128, 'must be at most 128 bytes'),
      key: z.string().regex(/^([0-9a-fA-F]{2}){1,64}$/, 'must be 1 to 64 bytes in hexadecimal'),
    })
    .strict(),
  z
    .object({
      mode: z.literal('rpk'),
      publicKey: z
        .string()
        .refine(
          (s) => publicKeyDer(s) !== undefined,
          'must be an EC public key (PEM, or SubjectPublicKeyInfo DER in base64)',
        ),
    })
    .strict(),
  z.object({ mode: z.literal('x509'), commonName: z.string().min(1).optional() }).strict(),
]);

export type CredentialsInput = z.infer<typeof credentialsSchema>;

/** The credentials of a validated record (the schema checked it), in usable form. */
export function deviceCredentials(input: CredentialsInput): DeviceCredentials {
  switch (input.mode) {
    case 'nosec':
      return { mode: 'nosec' };
    case 'psk':
      return { mode: 'psk', identity: input.identity, key: Buffer.from(input.key, 'hex') };
    case 'rpk':
      return { mode: 'rpk', publicKey: publicKeyDer(input.publicKey) as Buffer };
    case 'x509':
      return input.commonName !== undefined ? { mode: 'x509', commonName: input.commonName } : { mode: 'x509' };
  }
}

export type CredentialKind = 'psk' | 'rpk' | 'x509';

/** What finds a raw public key: the SHA-256 of its SubjectPublicKeyInfo DER, in hex. */
export function rpkFingerprint(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

/** How a handshake finds the record (kind and key), if the credentials are found that way. */
export function credentialKey(
  endpoint: string,
  input: CredentialsInput | undefined,
): { kind: CredentialKind; id: string } | undefined {
  switch (input?.mode) {
    case 'psk':
      return { kind: 'psk', id: input.identity };
    case 'rpk':
      return { kind: 'rpk', id: rpkFingerprint(publicKeyDer(input.publicKey) as Buffer) };
    case 'x509':
      return { kind: 'x509', id: input.commonName ?? endpoint };
    default:
      return undefined;
  }
}

export const sameCredentialKey = (
  a: { kind: string; id: string } | undefined,
  b: { kind: string; id: string } | undefined,
): boolean => a?.kind === b?.kind && a?.id === b?.id;
