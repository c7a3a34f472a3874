/** Alerts (RFC 5246 §7.2): level and description; the descriptions this server sends. */
export const AlertLevel = { WARNING: 1, FATAL: 2 } as const;

export const AlertDescription = {
  CLOSE_NOTIFY: 0,
  UNEXPECTED_MESSAGE: 10,
  BAD_RECORD_MAC: 20,
  HANDSHAKE_FAILURE: 40,
  BAD_CERTIFICATE: 42,
  CERTIFICATE_EXPIRED: 45,
  CERTIFICATE_UNKNOWN: 46,
  ILLEGAL_PARAMETER: 47,
  UNKNOWN_CA: 48,
  ACCESS_DENIED: 49,
  DECODE_ERROR: 50,
  DECRYPT_ERROR: 51,
  PROTOCOL_VERSION: 70,
  INSUFFICIENT_SECURITY: 71,
  INTERNAL_ERROR: 80,
  UNSUPPORTED_EXTENSION: 110,
  UNKNOWN_PSK_IDENTITY: 115, // RFC 4279 §2
} as const;

export function alertBody(level: number, description: number): Buffer {
  return Buffer.from([level, description]);
}

export function alertName(description: number): string {
  for (const [name, code] of Object.entries(AlertDescription)) if (code === description) return name.toLowerCase();
  return `alert ${description}`;
}
