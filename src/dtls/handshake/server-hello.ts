/**
 * Server flight messages with simple bodies:
 * - HelloVerifyRequest (RFC 6347 §4.2.1): server_version (DTLS 1.0, as §4.2.1 advises), cookie<0..2^8-1>;
 * - ServerHello (RFC 5246 §7.4.1.3): server_version, random, session_id<0..32>, cipher_suite,
 *   compression_method (null), extensions;
 * - ServerHelloDone (§7.4.5): empty.
 */
import { DTLS_1_0, DTLS_1_2 } from '../record';
import { WireWriter } from '../wire';
import { encodeExtensions } from './extensions';

export function helloVerifyRequest(cookie: Buffer): Buffer {
  return new WireWriter().u16(DTLS_1_0).vector(1, cookie).toBuffer();
}

export function serverHello(
  random: Buffer,
  sessionId: Buffer,
  cipherSuite: number,
  extensions: ReadonlyArray<readonly [number, Buffer]>,
): Buffer {
  return new WireWriter()
    .u16(DTLS_1_2)
    .bytes(random)
    .vector(1, sessionId)
    .u16(cipherSuite)
    .u8(0)
    .bytes(encodeExtensions(extensions))
    .toBuffer();
}
