/**
 * Operation results: CoAP response codes named as LwM2M (and ThingsBoard) users know them.
 */
import type { Link } from '../../lwm2m/link-format';
import type { LwM2mNode } from '../../lwm2m/node';
import type { Observation } from '../observation/observation-store';
import type { NodesByPath } from '../events';

const NAMES: ReadonlyMap<number, string> = new Map([
  [0x41, 'CREATED'],
  [0x42, 'DELETED'],
  [0x43, 'VALID'],
  [0x44, 'CHANGED'],
  [0x45, 'CONTENT'],
  [0x5f, 'CONTINUE'],
  [0x80, 'BAD_REQUEST'],
  [0x81, 'UNAUTHORIZED'],
  [0x82, 'BAD_OPTION'],
  [0x83, 'FORBIDDEN'],
  [0x84, 'NOT_FOUND'],
  [0x85, 'METHOD_NOT_ALLOWED'],
  [0x86, 'NOT_ACCEPTABLE'],
  [0x88, 'REQUEST_ENTITY_INCOMPLETE'],
  [0x89, 'CONFLICT'],
  [0x8c, 'PRECONDITION_FAILED'],
  [0x8d, 'REQUEST_ENTITY_TOO_LARGE'],
  [0x8f, 'UNSUPPORTED_CONTENT_FORMAT'],
  [0xa0, 'INTERNAL_SERVER_ERROR'],
  [0xa1, 'NOT_IMPLEMENTED'],
  [0xa2, 'BAD_GATEWAY'],
  [0xa3, 'SERVICE_UNAVAILABLE'],
  [0xa4, 'GATEWAY_TIMEOUT'],
  [0xa5, 'PROXY_NOT_SUPPORTED'],
]);

export function resultName(code: number): string {
  return NAMES.get(code) ?? `CODE_${code >> 5}_${String(code & 0x1f).padStart(2, '0')}`;
}

export interface OperationResult {
  /** CoAP response code. */
  readonly code: number;
  /** LwM2M result name: CONTENT, CHANGED, NOT_FOUND, ... */
  readonly result: string;
  readonly success: boolean;
  /** Single-path Read / Observe value. */
  readonly node?: LwM2mNode;
  /** Composite Read / Observe values by path. */
  readonly nodes?: NodesByPath;
  /** Discover. */
  readonly links?: readonly Link[];
  /** Create: Location-Path of the new instance ("/3303/1"). */
  readonly location?: string;
  readonly observation?: Observation;
  readonly contentFormat?: number;
  /** Diagnostic payload of an error response. */
  readonly error?: string;
}

export function baseResult(code: number, payload: Buffer): OperationResult {
  const success = code >> 5 === 2;
  const error = !success && payload.length > 0 ? payload.toString('utf8') : undefined;
  return { code, result: resultName(code), success, ...(error !== undefined ? { error } : {}) };
}
