/**
 * The cipher suites this server negotiates, all on AES-128 and the SHA-256 PRF:
 * PSK (RFC 4279; CCM_8 RFC 6655, GCM RFC 5487, CBC_SHA256 RFC 5487) and ECDHE_ECDSA on P-256
 * (RFC 8422; CCM_8 RFC 7251, GCM RFC 5289, CBC_SHA256 RFC 5289). LwM2M-Core 1.2 §5.2.8 makes
 * the CCM_8 suites mandatory to implement. Preference: the server's order below.
 */
export type KeyExchange = 'psk' | 'ecdhe_ecdsa';
export type BulkCipher = 'ccm8' | 'gcm' | 'cbc';

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly keyExchange: KeyExchange;
  readonly cipher: BulkCipher;
  readonly macKeyLength: number;
  readonly encKeyLength: number;
  readonly fixedIvLength: number;
}

const suite = (id: number, name: string, keyExchange: KeyExchange, cipher: BulkCipher): CipherSuite => ({
  id,
  name,
  keyExchange,
  cipher,
  macKeyLength: cipher === 'cbc' ? 32 : 0,
  encKeyLength: 16,
  fixedIvLength: cipher === 'cbc' ? 0 : 4,
});

export const CIPHER_SUITES: readonly CipherSuite[] = [
  suite(0xc0ae, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', 'ecdhe_ecdsa', 'ccm8'),
  suite(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ecdhe_ecdsa', 'gcm'),
  suite(0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ecdhe_ecdsa', 'cbc'),
  suite(0xc0a8, 'TLS_PSK_WITH_AES_128_CCM_8', 'psk', 'ccm8'),
  suite(0x00a8, 'TLS_PSK_WITH_AES_128_GCM_SHA256', 'psk', 'gcm'),
  suite(0x00ae, 'TLS_PSK_WITH_AES_128_CBC_SHA256', 'psk', 'cbc'),
];

const byId = new Map(CIPHER_SUITES.map((s) => [s.id, s]));

export function cipherSuite(id: number): CipherSuite | undefined {
  return byId.get(id);
}

/** Bytes of key material a suite takes from the key block (RFC 5246 §6.3). */
export function keyBlockLength(s: CipherSuite): number {
  return 2 * (s.macKeyLength + s.encKeyLength + s.fixedIvLength);
}

/** The first of the server's suites (in its order) that the client offers and `usable` allows. */
export function chooseSuite(offered: readonly number[], usable: (s: CipherSuite) => boolean): CipherSuite | undefined {
  const set = new Set(offered);
  return CIPHER_SUITES.find((s) => set.has(s.id) && usable(s));
}
