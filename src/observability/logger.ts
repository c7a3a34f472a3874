/**
 * Structured JSON logs (pino). Keys and credentials are never passed to the logger.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'lwm2m-bridge' }, timestamp: pino.stdTimeFunctions.isoTime });
}
