/**
 * One error hierarchy for the whole bridge. Every error has a stable machine-readable
 * `code` and says whether retrying the same operation can succeed (`retriable`).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PATTERN_INVALID'
  | 'COAP_MESSAGE_FORMAT'
  | 'COAP_TIMEOUT'
  | 'COAP_CANCELLED'
  | 'COAP_RESET'
  | 'BLOCKWISE'
  | 'LWM2M_PATH_INVALID'
  | 'LWM2M_CODEC'
  | 'LWM2M_UNSUPPORTED_FORMAT'
  | 'LWM2M_MODEL'
  | 'LWM2M_LINK_FORMAT'
  | 'LWM2M_NOT_REGISTERED'
  | 'LWM2M_BAD_REQUEST'
  | 'STORE'
  | 'STORE_UNAVAILABLE'
  | 'BUS_UNAVAILABLE'
  | 'BUS_REJECTED'
  | 'RECORD_NOT_TAKEN'
  | 'PROFILE_INVALID'
  | 'DTLS_DECODE'
  | 'DTLS_HANDSHAKE';

export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Configuration that cannot be used; the message names the variable. */
export class ConfigError extends BridgeError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** A datagram that is not a well-formed CoAP message (RFC 7252 §3, §4.2 "message format error"). */
export class CoapFormatError extends BridgeError {
  /** Message ID and type, when the 4-byte header could be read: lets the caller answer with RST. */
  readonly header?: { type: number; messageId: number; token?: Buffer };
  constructor(message: string, header?: { type: number; messageId: number; token?: Buffer }) {
    super('COAP_MESSAGE_FORMAT', message);
    if (header) this.header = header;
  }
}

/** A request of ours that got no answer after MAX_RETRANSMIT (RFC 7252 §4.2) or the exchange deadline. */
export class CoapTimeoutError extends BridgeError {
  constructor(message: string) {
    super('COAP_TIMEOUT', message, { retriable: true });
  }
}

/**
 * An exchange of ours cut short by this side (the endpoint closed at shutdown): the peer may
 * never have seen the request, so its caller may send it again elsewhere.
 */
export class CoapCancelledError extends BridgeError {
  constructor(message: string) {
    super('COAP_CANCELLED', message, { retriable: true });
  }
}

/** The peer rejected our CON message with RST (RFC 7252 §4.2). */
export class CoapResetError extends BridgeError {
  constructor(message: string) {
    super('COAP_RESET', message, { retriable: false });
  }
}

/** Content that cannot be encoded or decoded. `path` names the LwM2M path concerned when known. */
export class CodecError extends BridgeError {
  readonly path?: string;
  constructor(message: string, path?: string) {
    super('LWM2M_CODEC', path ? `${message} (at ${path})` : message);
    if (path) this.path = path;
  }
}

export class UnsupportedFormatError extends BridgeError {
  constructor(readonly contentFormat: number) {
    super('LWM2M_UNSUPPORTED_FORMAT', `unsupported content format ${contentFormat}`);
  }
}

export class PathError extends BridgeError {
  constructor(message: string) {
    super('LWM2M_PATH_INVALID', message);
  }
}

export class ModelError extends BridgeError {
  constructor(message: string) {
    super('LWM2M_MODEL', message);
  }
}

export class LinkFormatError extends BridgeError {
  constructor(message: string) {
    super('LWM2M_LINK_FORMAT', message);
  }
}

/** DTLS bytes that cannot be parsed (RFC 6347 §4.1, §4.2.2); the record or message is dropped. */
export class DtlsDecodeError extends BridgeError {
  constructor(message: string) {
    super('DTLS_DECODE', message);
  }
}

/**
 * A handshake that cannot go on; `alert` is the TLS alert description to send
 * (RFC 5246 §7.2.2), e.g. 40 handshake_failure, 51 decrypt_error, 115 unknown_psk_identity.
 */
export class DtlsHandshakeError extends BridgeError {
  constructor(
    readonly alert: number,
    message: string,
  ) {
    super('DTLS_HANDSHAKE', message);
  }
}
