/**
 * ClientHello (RFC 6347 §4.2.1, RFC 5246 §7.4.1.2):
 *
 *   struct {
 *     ProtocolVersion client_version;  Random random;           // 32 bytes
 *     SessionID session_id<0..32>;     opaque cookie<0..2^8-1>;
 *     CipherSuite cipher_suites<2..2^16-2>;
 *     CompressionMethod compression_methods<1..2^8-1>;
 *     Extension extensions<0..2^16-1>;   // optional
 *   } ClientHello;
 */
import { DtlsDecodeError } from '../../common/errors';
import { WireReader } from '../wire';
import { parseExtensions } from './extensions';

export interface ClientHello {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cookie: Buffer;
  readonly cipherSuites: readonly number[];
  readonly compression: Buffer;
  readonly extensions: ReadonlyMap<number, Buffer>;
  /** The bytes the cookie is computed over: everything but the cookie and the extensions (§4.2.1). */
  readonly cookieInput: Buffer;
}

export function parseClientHello(body: Buffer): ClientHello {
  const r = new WireReader(body);
  const version = r.u16('client_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'session_id', 32);
  const cookieStart = r.offset;
  const cookie = r.vector(1, 'cookie', 255);
  const afterCookie = r.offset;
  const suites = r.vector(2, 'cipher_suites');
  if (suites.length < 2 || suites.length % 2 !== 0)
    throw new DtlsDecodeError(`cipher_suites of ${suites.length} bytes`);
  const cipherSuites: number[] = [];
  for (let i = 0; i < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i));
  const compression = r.vector(1, 'compression_methods');
  if (compression.length === 0) throw new DtlsDecodeError('no compression method');
  const extensionsStart = r.offset;
  const extensions = parseExtensions(r);
  if (r.remaining !== 0) throw new DtlsDecodeError(`${r.remaining} bytes after the ClientHello's extensions`);
  const cookieInput = Buffer.concat([body.subarray(0, cookieStart), body.subarray(afterCookie, extensionsStart)]);
  return { version, random, sessionId, cookie, cipherSuites, compression, extensions, cookieInput };
}
