/**
 * Observation ↔ the string kept in observationsByEndpoint and observationByToken (keys.ts).
 *
 * Format 1: compact JSON
 *   {"v":1,"t":token,"r":registrationId,"e":endpoint,"k":"s"|"c","p":[paths],"c":contentFormat?,
 *    "a":createdAt,"x":{...}?}
 * `r` is read by the REMOVE_BY_REGISTRATION script (cjson) to pick a registration's entries.
 * `x` carries any further (optional) fields the Observation type grows, unchanged, so that a
 * newer field round-trips before this codec names it. JSON values only.
 * Newer formats are refused with a StoreError; a later format adds its decoder here.
 */
import type { Observation } from '../server/observation/observation-store';
import { StoreError } from '../common/store-errors';

export const CURRENT_OBSERVATION_FORMAT = 1;

const KNOWN = new Set(['token', 'registrationId', 'endpoint', 'kind', 'paths', 'contentFormat', 'createdAt']);

interface EncodedV1 {
  v: number;
  t: string;
  r: string;
  e: string;
  k: 's' | 'c';
  p: readonly string[];
  c?: number;
  a: number;
  x?: Record<string, unknown>;
}

export function encodeObservation(obs: Observation): string {
  const out: EncodedV1 = {
    v: CURRENT_OBSERVATION_FORMAT,
    t: obs.token,
    r: obs.registrationId,
    e: obs.endpoint,
    k: obs.kind === 'single' ? 's' : 'c',
    p: obs.paths,
    a: obs.createdAt,
  };
  if (obs.contentFormat !== undefined) out.c = obs.contentFormat;
  let extra: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obs)) {
    if (KNOWN.has(k) || v === undefined) continue;
    (extra ??= {})[k] = v;
  }
  if (extra !== undefined) out.x = extra;
  return JSON.stringify(out);
}

export function decodeObservation(text: string): Observation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StoreError('observation record is not JSON', err);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new StoreError('observation record is not an object');
  const o = parsed as Partial<Record<keyof EncodedV1, unknown>>;
  if (typeof o.v !== 'number' || !Number.isInteger(o.v) || o.v < 1)
    throw new StoreError('observation record without a valid format version');
  if (o.v > CURRENT_OBSERVATION_FORMAT)
    throw new StoreError(
      `observation record format ${o.v} is newer than this bridge reads (${CURRENT_OBSERVATION_FORMAT})`,
    );
  if (
    typeof o.t !== 'string' ||
    typeof o.r !== 'string' ||
    typeof o.e !== 'string' ||
    (o.k !== 's' && o.k !== 'c') ||
    typeof o.a !== 'number'
  ) {
    throw new StoreError('observation record has a missing or invalid field');
  }
  if (!Array.isArray(o.p) || !o.p.every((p): p is string => typeof p === 'string'))
    throw new StoreError(`observation ${o.t}: invalid paths`);
  if (o.c !== undefined && typeof o.c !== 'number') throw new StoreError(`observation ${o.t}: invalid content format`);
  const extra = typeof o.x === 'object' && o.x !== null ? (o.x as Record<string, unknown>) : {};
  const obs: Observation = {
    ...extra,
    token: o.t,
    registrationId: o.r,
    endpoint: o.e,
    kind: o.k === 's' ? 'single' : 'composite',
    paths: o.p,
    ...(typeof o.c === 'number' ? { contentFormat: o.c } : {}),
    createdAt: o.a,
  };
  return obs;
}
