/**
 * CoAP message model (RFC 7252 §3).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Ver| T |  TKL  |      Code     |          Message ID           |
 *  |   Token (if any, TKL bytes) ...  Options (if any) ... 0xFF Payload
 */

export enum MessageType {
  CON = 0,
  NON = 1,
  ACK = 2,
  RST = 3,
}

export interface CoapOption {
  readonly number: number;
  readonly value: Buffer;
}

export interface CoapMessage {
  readonly type: MessageType;
  /** class << 5 | detail, e.g. 0x45 = 2.05 Content. */
  readonly code: number;
  readonly messageId: number;
  readonly token: Buffer;
  /** Sorted by option number (RFC 7252 §3.1); repeated options keep their order. */
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

/** Builds a code from "c.dd" parts. */
export const code = (cls: number, detail: number): number => (cls << 5) | detail;
export const codeClass = (c: number): number => c >> 5;
export const formatCode = (c: number): string => `${c >> 5}.${String(c & 0x1f).padStart(2, '0')}`;

/** RFC 7252 §12.1.1 method codes, RFC 8132 FETCH/PATCH/iPATCH. */
export const Method = { GET: 1, POST: 2, PUT: 3, DELETE: 4, FETCH: 5, PATCH: 6, IPATCH: 7 } as const;

/** RFC 7252 §12.1.2 response codes, RFC 7959 §2.9 (2.31, 4.08, 4.13). */
export const Code = {
  EMPTY: 0,
  CREATED: code(2, 1),
  DELETED: code(2, 2),
  VALID: code(2, 3),
  CHANGED: code(2, 4),
  CONTENT: code(2, 5),
  CONTINUE: code(2, 31),
  BAD_REQUEST: code(4, 0),
  UNAUTHORIZED: code(4, 1),
  BAD_OPTION: code(4, 2),
  FORBIDDEN: code(4, 3),
  NOT_FOUND: code(4, 4),
  METHOD_NOT_ALLOWED: code(4, 5),
  NOT_ACCEPTABLE: code(4, 6),
  REQUEST_ENTITY_INCOMPLETE: code(4, 8),
  CONFLICT: code(4, 9),
  PRECONDITION_FAILED: code(4, 12),
  REQUEST_ENTITY_TOO_LARGE: code(4, 13),
  UNSUPPORTED_CONTENT_FORMAT: code(4, 15),
  INTERNAL_SERVER_ERROR: code(5, 0),
  NOT_IMPLEMENTED: code(5, 1),
  BAD_GATEWAY: code(5, 2),
  SERVICE_UNAVAILABLE: code(5, 3),
  GATEWAY_TIMEOUT: code(5, 4),
} as const;

/** RFC 7252 §12.2, RFC 7641 §2 (Observe), RFC 7959 §2.1 (Block1/2, Size1/2), RFC 9175 (Echo not used). */
export const Opt = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  ACCEPT: 17,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
  NO_RESPONSE: 258,
} as const;

export const isRequestCode = (c: number): boolean => c >= 1 && c <= 31;
export const isResponseCode = (c: number): boolean => c >= 64 && c < 192;
export const isEmpty = (m: CoapMessage): boolean => m.code === 0;

/** Critical options have an odd number (RFC 7252 §5.4.6). */
export const isCritical = (n: number): boolean => (n & 1) === 1;

export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
