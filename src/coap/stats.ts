/**
 * Message-layer counters. Plain fields incremented on the hot path; the observability module
 * reads them at scrape time, so counting costs one add per event.
 */
export class CoapStats {
  datagramsIn = 0;
  datagramsOut = 0;
  requestsIn = 0;
  responsesIn = 0;
  duplicates = 0;
  malformed = 0;
  ignored = 0;
  badOption = 0;
  retransmissions = 0;
  timeouts = 0;
  /** Our requests acknowledged with an empty ACK whose separate response did not come in time. */
  separateTimeouts = 0;
  /** Separate responses that came after their request was given up: acknowledged and dropped. */
  lateResponses = 0;
  resetsIn = 0;
  resetsOut = 0;
  unknownNotifications = 0;
  handlerErrors = 0;
  /** Messages by type (CON, NON, ACK, RST) × code byte: index type * 256 + code. */
  readonly inByTypeCode = new Float64Array(4 * 256);
  readonly outByTypeCode = new Float64Array(4 * 256);
}

/** Why a datagram was dropped or rejected; used for logs and labelled metrics. */
export type DropReason =
  | 'malformed'
  | 'unknown-version'
  | 'unmatched-response'
  | 'late-response'
  | 'bad-option'
  | 'handler-error'
  | 'too-large'
  | 'too-many-options'
  | 'rate-limited';

export interface CoapEventSink {
  onDrop?(reason: DropReason, peer: string, detail: string): void;
}
