/**
 * Query parameters of Register and Update (LwM2M-Core 1.2 §6.2.1, Transport 1.2 §6.2.1,
 * Table "Registration Interface" parameters): ep, lt, lwm2m, b, sms, Q. Each violation is a
 * BadRequest naming the parameter; the router answers it with 4.00 and this text.
 */
import { BridgeError } from '../../common/errors';
import { SUPPORTED_VERSIONS, type LwM2mVersion } from './registration';

export class BadRequest extends BridgeError {
  constructor(message: string) {
    super('LWM2M_BAD_REQUEST', message);
  }
}

export interface RegisterParams {
  readonly endpoint: string;
  readonly lifetime: number;
  readonly lwm2mVersion: LwM2mVersion;
  readonly binding: string;
  readonly queueMode: boolean;
  readonly smsNumber?: string;
}

export interface UpdateParams {
  readonly lifetime?: number;
  readonly binding?: string;
  readonly queueMode?: boolean;
  readonly smsNumber?: string;
}

/** Default lifetime when lt is absent (LwM2M-Core 1.2 §6.2.1: 86400 s). */
export const DEFAULT_LIFETIME = 86400;
const BINDING = /^[UTSNQ]+$/; // LwM2M 1.0 allows U, UQ, S, SQ, US, UQS; 1.1+ letters U, T, S, N (Q via its own parameter)
const ENDPOINT_MAX = 255;

function splitQuery(query: readonly string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (const q of query) {
    const eq = q.indexOf('=');
    const key = eq < 0 ? q : q.slice(0, eq);
    if (key === '') throw new BadRequest(`empty query parameter name in "${q}"`);
    if (out.has(key)) throw new BadRequest(`query parameter "${key}" is repeated`);
    out.set(key, eq < 0 ? true : q.slice(eq + 1));
  }
  return out;
}

function lifetimeOf(v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v === true || !/^\d{1,10}$/.test(v) || Number(v) < 1)
    throw new BadRequest(`lt must be a positive integer number of seconds, got "${v === true ? '' : v}"`);
  return Number(v);
}

function bindingOf(v: string | true | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v === true || !BINDING.test(v))
    throw new BadRequest(`b must be a binding mode made of U, T, S, N or Q, got "${v === true ? '' : v}"`);
  return v;
}

function stringOf(name: string, v: string | true | undefined): string | undefined {
  if (v === true) throw new BadRequest(`${name} needs a value`);
  return v;
}

function queueOf(v: string | true | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  // LwM2M-Core 1.1 §6.2.1: "Q" is a parameter without value.
  if (v !== true) throw new BadRequest(`Q takes no value, got "Q=${v}"`);
  return true;
}

export function parseRegisterParams(query: readonly string[]): RegisterParams {
  const q = splitQuery(query);
  const endpoint = stringOf('ep', q.get('ep'));
  if (endpoint === undefined || endpoint === '') throw new BadRequest('ep (endpoint client name) is required');
  if (Buffer.byteLength(endpoint) > ENDPOINT_MAX) throw new BadRequest(`ep is longer than ${ENDPOINT_MAX} bytes`);
  const version = stringOf('lwm2m', q.get('lwm2m')) ?? '1.0';
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new BadRequest(`lwm2m version "${version}" is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  const binding = bindingOf(q.get('b')) ?? 'U';
  const queue = queueOf(q.get('Q')) ?? false;
  const sms = stringOf('sms', q.get('sms'));
  return {
    endpoint,
    lifetime: lifetimeOf(q.get('lt')) ?? DEFAULT_LIFETIME,
    lwm2mVersion: version as LwM2mVersion,
    binding,
    // LwM2M 1.0 signals queue mode inside the binding ("UQ"); 1.1+ with the Q parameter.
    queueMode: queue || binding.includes('Q'),
    ...(sms !== undefined ? { smsNumber: sms } : {}),
  };
}

export function parseUpdateParams(query: readonly string[]): UpdateParams {
  const q = splitQuery(query);
  for (const key of q.keys()) {
    if (key === 'ep' || key === 'lwm2m')
      throw new BadRequest(`${key} cannot change in an Update (LwM2M-Core 1.2 §6.2.2)`);
  }
  const out: { lifetime?: number; binding?: string; queueMode?: boolean; smsNumber?: string } = {};
  const lt = lifetimeOf(q.get('lt'));
  if (lt !== undefined) out.lifetime = lt;
  const b = bindingOf(q.get('b'));
  if (b !== undefined) out.binding = b;
  const queue = queueOf(q.get('Q'));
  if (queue !== undefined || b !== undefined) out.queueMode = (queue ?? false) || (b ?? '').includes('Q');
  const sms = stringOf('sms', q.get('sms'));
  if (sms !== undefined) out.smsNumber = sms;
  return out;
}
