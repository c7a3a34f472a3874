/**
 * Stateless cookies (RFC 6347 §4.2.1): HMAC-SHA256 over the client's address and its
 * ClientHello parameters, keyed with a secret that rotates every `rotateMs`. A cookie made with
 * the current or the previous secret is accepted. The secret of each period is derived from one
 * base secret shared by every instance, so a ClientHello answered by one instance can come back
 * with its cookie to another (the load balancer may move the device between the two).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const COOKIE_LENGTH = 32;

export class CookieJar {
  private cached: { period: number; key: Buffer } | undefined;

  constructor(
    /** Shared by every instance (DTLS_SHARED_SECRET); random per process when not configured. */
    private readonly base: Buffer = randomBytes(32),
    private readonly rotateMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  make(peer: string, cookieInput: Buffer): Buffer {
    return this.mac(this.period(), peer, cookieInput);
  }

  check(peer: string, cookieInput: Buffer, cookie: Buffer): boolean {
    if (cookie.length !== COOKIE_LENGTH) return false;
    const p = this.period();
    return (
      timingSafeEqual(cookie, this.mac(p, peer, cookieInput)) ||
      timingSafeEqual(cookie, this.mac(p - 1, peer, cookieInput))
    );
  }

  private period(): number {
    return Math.floor(this.now() / this.rotateMs);
  }

  private mac(period: number, peer: string, input: Buffer): Buffer {
    let key: Buffer;
    if (this.cached?.period === period) key = this.cached.key;
    else {
      key = createHmac('sha256', this.base).update(`dtls cookie ${period}`).digest();
      if (period === this.period()) this.cached = { period, key };
    }
    return createHmac('sha256', key).update(peer).update(input).digest().subarray(0, COOKIE_LENGTH);
  }
}
