/** A content format a device refused, and the one tried next (format-negotiation.ts). */
import type { Registration } from '../registration/registration';

export interface FormatFallback {
  readonly registration: Registration;
  readonly operation: string;
  /** The refusal: NOT_ACCEPTABLE (4.06) or UNSUPPORTED_CONTENT_FORMAT (4.15). */
  readonly reason: string;
  readonly contentFormat: number;
  readonly fallbackContentFormat: number;
}

export type FormatNegotiationSink = (fallback: FormatFallback) => void;
