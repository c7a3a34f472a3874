/**
 * Registration ↔ the fields of its Redis hash (registrationByEndpoint, keys.ts). Apart from
 * storage so that the layout of a record can change without touching the store.
 *
 * Format 1 (field `v` = "1"), one hash field per attribute so that Update rewrites only what
 * changed (scripts.ts UPDATE):
 *   v   format version          id  registration id        ep  endpoint
 *   a   address                 p   port                   lt  lifetime (s)
 *   ver LwM2M version           b   binding                q   queue mode "1" | "0"
 *   sms SMS number (optional)   rp  root path              ct  content formats "11543,112" (optional)
 *   ob  objects, JSON [[objectId, [instances], version?], ...]
 *   lk  object links as received
 *   ra  registeredAt (ms)       lu  lastUpdate (ms)        ex  expiresAt (ms)
 *   sec security "<mode>:<name>" when registered over DTLS (optional; psk | rpk | x509)
 * Store metadata beside them (not part of the Registration): wv (write version, scripts.ts),
 * dl (index deadline), in (instance that last saw the device), sn (last seen, ms).
 *
 * A reader accepts every format up to CURRENT_FORMAT and refuses newer ones with a StoreError:
 * a later format must add a decoder here before it is written.
 */
import type { LwM2mVersion, ObjectLinkEntry, Registration } from '../server/registration/registration';
import { SUPPORTED_VERSIONS } from '../server/registration/registration';
import type { RegistrationChanges } from '../server/registration/registration-store';
import { StoreError } from '../common/store-errors';

export const CURRENT_FORMAT = 1;

/** What the store keeps beside the registration. */
export interface RegistrationMeta {
  /** Write version of this state (scripts.ts); tags the endpointByAddress entry it wrote. */
  readonly version: number;
  readonly deadline: number;
  readonly instance?: string;
  readonly seen?: number;
}

export interface StoredRegistration {
  readonly registration: Registration;
  readonly meta: RegistrationMeta;
}

/** Flat [field, value, field, value, ...] of a whole registration (without metadata). */
export function encodeRegistration(reg: Registration): string[] {
  const out = [
    'v',
    String(CURRENT_FORMAT),
    'id',
    reg.id,
    'ep',
    reg.endpoint,
    'ver',
    reg.lwm2mVersion,
    'ra',
    String(reg.registeredAt),
  ];
  pushChanges(out, reg);
  out.push('lu', String(reg.lastUpdate), 'ex', String(reg.expiresAt));
  if (reg.security !== undefined) out.push('sec', `${reg.security.mode}:${reg.security.name}`);
  return out;
}

/** Flat field/value pairs of the attributes an Update changes; absent ones are left alone. */
export function encodeChanges(changes: RegistrationChanges): string[] {
  const out: string[] = [];
  pushChanges(out, changes);
  return out;
}

function pushChanges(out: string[], c: RegistrationChanges): void {
  if (c.address !== undefined) out.push('a', c.address);
  if (c.port !== undefined) out.push('p', String(c.port));
  if (c.lifetime !== undefined) out.push('lt', String(c.lifetime));
  if (c.binding !== undefined) out.push('b', c.binding);
  if (c.queueMode !== undefined) out.push('q', c.queueMode ? '1' : '0');
  if (c.smsNumber !== undefined) out.push('sms', c.smsNumber);
  if (c.rootPath !== undefined) out.push('rp', c.rootPath);
  if (c.supportedContentFormats !== undefined) out.push('ct', c.supportedContentFormats.join(','));
  if (c.objects !== undefined) out.push('ob', JSON.stringify(c.objects.map(encodeObject)));
  if (c.objectLinks !== undefined) out.push('lk', c.objectLinks);
}

/** The registration after an Update, computed exactly as the UPDATE script stores it. */
export function applyChanges(before: Registration, changes: RegistrationChanges, now: number): Registration {
  const defined: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) defined[k] = v;
  const lifetime = changes.lifetime ?? before.lifetime;
  return { ...before, ...(defined as RegistrationChanges), lastUpdate: now, expiresAt: now + lifetime * 1000 };
}

/** Flat HGETALL reply (a script's) → record. */
export function fieldsFromFlat(flat: readonly unknown[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i];
    const v = flat[i + 1];
    if (typeof k === 'string' && typeof v === 'string') m.set(k, v);
  }
  return m;
}

/** ioredis HGETALL reply (an object) → record. */
export function fieldsFromObject(obj: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(obj));
}

function decodeSecurity(endpoint: string, sec: string | undefined): Pick<Registration, 'security'> {
  if (sec === undefined) return {};
  const colon = sec.indexOf(':');
  const mode = sec.slice(0, colon);
  if (colon < 0 || (mode !== 'psk' && mode !== 'rpk' && mode !== 'x509')) throw corrupt(endpoint, 'sec');
  return { security: { mode, name: sec.slice(colon + 1) } };
}

export function decodeRegistration(f: ReadonlyMap<string, string>): StoredRegistration {
  const version = Number(f.get('v'));
  if (!Number.isInteger(version) || version < 1)
    throw new StoreError(`registration record without a valid format version (v=${f.get('v') ?? 'absent'})`);
  if (version > CURRENT_FORMAT)
    throw new StoreError(`registration record format ${version} is newer than this bridge reads (${CURRENT_FORMAT})`);
  return decodeV1(f);
}

function decodeV1(f: ReadonlyMap<string, string>): StoredRegistration {
  const endpoint = str(f, 'ep');
  const lwm2mVersion = str(f, 'ver');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(lwm2mVersion)) throw corrupt(endpoint, 'ver');
  const sms = f.get('sms');
  const ct = f.get('ct');
  const registration: Registration = {
    id: str(f, 'id'),
    endpoint,
    address: str(f, 'a'),
    port: int(f, 'p'),
    lifetime: int(f, 'lt'),
    lwm2mVersion: lwm2mVersion as LwM2mVersion,
    binding: str(f, 'b'),
    queueMode: f.get('q') === '1',
    ...(sms !== undefined ? { smsNumber: sms } : {}),
    rootPath: str(f, 'rp'),
    ...(ct !== undefined ? { supportedContentFormats: ct === '' ? [] : ct.split(',').map(Number) } : {}),
    objects: decodeObjects(endpoint, str(f, 'ob')),
    objectLinks: str(f, 'lk'),
    registeredAt: int(f, 'ra'),
    lastUpdate: int(f, 'lu'),
    expiresAt: int(f, 'ex'),
    ...decodeSecurity(endpoint, f.get('sec')),
  };
  const instance = f.get('in');
  const seen = f.get('sn');
  const meta: RegistrationMeta = {
    version: Number(f.get('wv') ?? 0),
    deadline: Number(f.get('dl') ?? 0),
    ...(instance !== undefined ? { instance } : {}),
    ...(seen !== undefined ? { seen: Number(seen) } : {}),
  };
  return { registration, meta };
}

type EncodedObject = [number, readonly number[]] | [number, readonly number[], string];

function encodeObject(o: ObjectLinkEntry): EncodedObject {
  return o.version !== undefined ? [o.objectId, o.instances, o.version] : [o.objectId, o.instances];
}

function decodeObjects(endpoint: string, json: string): ObjectLinkEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new StoreError(`registration record of "${endpoint}": field ob is not JSON`, err);
  }
  if (!Array.isArray(parsed)) throw corrupt(endpoint, 'ob');
  return parsed.map((e: unknown): ObjectLinkEntry => {
    if (
      !Array.isArray(e) ||
      typeof e[0] !== 'number' ||
      !Array.isArray(e[1]) ||
      !e[1].every((i) => typeof i === 'number')
    )
      throw corrupt(endpoint, 'ob');
    const instances = e[1] as number[];
    if (e.length > 2) {
      if (typeof e[2] !== 'string') throw corrupt(endpoint, 'ob');
      return { objectId: e[0], version: e[2], instances };
    }
    return { objectId: e[0], instances };
  });
}

function str(f: ReadonlyMap<string, string>, field: string): string {
  const v = f.get(field);
  if (v === undefined) throw corrupt(f.get('ep') ?? '?', field);
  return v;
}

function int(f: ReadonlyMap<string, string>, field: string): number {
  const v = Number(str(f, field));
  if (!Number.isFinite(v)) throw corrupt(f.get('ep') ?? '?', field);
  return v;
}

function corrupt(endpoint: string, field: string): StoreError {
  return new StoreError(`registration record of "${endpoint}" has a missing or invalid field ${field}`);
}
