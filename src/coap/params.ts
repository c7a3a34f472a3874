/**
 * CoAP transmission parameters (RFC 7252 §4.8) and derived times (§4.8.2).
 */
export interface TransmissionParams {
  /** ACK_TIMEOUT in milliseconds (default 2000). */
  readonly ackTimeoutMs: number;
  /** ACK_RANDOM_FACTOR (default 1.5). */
  readonly ackRandomFactor: number;
  /** MAX_RETRANSMIT (default 4). */
  readonly maxRetransmit: number;
  /** NSTART: our requests outstanding to one peer at most (default 1, §4.7); more wait their turn. */
  readonly nstart?: number;
}

export const DEFAULT_TRANSMISSION: TransmissionParams = { ackTimeoutMs: 2000, ackRandomFactor: 1.5, maxRetransmit: 4 };

/** MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR (§4.8.2). */
export const maxTransmitSpanMs = (p: TransmissionParams): number =>
  p.ackTimeoutMs * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;

/** MAX_TRANSMIT_WAIT = ACK_TIMEOUT * (2^(MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR (§4.8.2). */
export const maxTransmitWaitMs = (p: TransmissionParams): number =>
  p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;

/** EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY (100 s) + PROCESSING_DELAY (ACK_TIMEOUT) (§4.8.2). */
export const exchangeLifetimeMs = (p: TransmissionParams): number =>
  maxTransmitSpanMs(p) + 2 * 100_000 + p.ackTimeoutMs;

/** NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY (§4.8.2). */
export const nonLifetimeMs = (p: TransmissionParams): number => maxTransmitSpanMs(p) + 100_000;
