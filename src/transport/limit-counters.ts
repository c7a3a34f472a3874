/**
 * What the protections of DESIGN invariant 5 (rate and size limits) turned away, by reason:
 * plain numbers incremented where the limit is applied, read at scrape time by
 * src/observability/limit-metrics.ts. Never a log line per datagram.
 */
export type LimitReason =
  /** A datagram over its source address's rate (dropped at the socket, before any parsing). */
  | 'source-rate'
  /** A DTLS ClientHello with a valid cookie over its source address's handshake rate (dropped). */
  | 'handshake-rate'
  /** A request over its endpoint's rate (CON: 5.03 with Max-Age; NON: dropped). */
  | 'endpoint-rate'
  /** A request over its source address's request rate (CON: 5.03 with Max-Age; NON: dropped). */
  | 'source-request-rate'
  /** A CoAP message longer than COAP_MAX_MESSAGE_BYTES (CON request: 4.13 with Size1). */
  | 'message-too-large'
  /** A CoAP message with more than COAP_MAX_OPTIONS options (CON request: 4.00). */
  | 'too-many-options'
  /** A block-wise request body over COAP_MAX_BODY_BYTES (4.13 with Size1). */
  | 'body-too-large'
  /** Block-wise bodies of one source address over COAP_MAX_REASSEMBLY_BYTES_PER_SOURCE (5.03 with Max-Age). */
  | 'source-reassembly';

export class LimitCounters {
  readonly counts = new Map<LimitReason, number>();

  count(reason: LimitReason, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  get(reason: LimitReason): number {
    return this.counts.get(reason) ?? 0;
  }
}
