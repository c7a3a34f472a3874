/**
 * The profile document, validated with zod. The shape is ThingsBoard's LwM2M transport
 * configuration (`observeAttr.{keyName, observe, attribute, telemetry, attributeLwm2m,
 * observeStrategy}`), so that its profiles can be brought over, plus our additions
 * (`name`, `updatedAt`, `version`, `readStrategy`, `unmappedPaths`). docs/profiles.md describes every field.
 *
 * Accepted inputs: our document; a ThingsBoard device profile export
 * (`{name, profileData: {transportConfiguration: {...}}}`); or `{name, transportConfiguration}`.
 */
import { z } from 'zod';
import { AttributeError, ATTRIBUTE_NAMES, attributesToQuery, type NotificationAttributes } from '../lwm2m/attributes';
import { formatPath, parseVersionedPath, pathLevel } from '../lwm2m/path';
import { ProfileError, type ProfileIssue } from './errors';
import { errorMessage } from '../common/error-message';

export const OBSERVE_STRATEGIES = ['SINGLE', 'COMPOSITE_ALL', 'COMPOSITE_BY_OBJECT'] as const;
export type ObserveStrategy = (typeof OBSERVE_STRATEGIES)[number];

/**
 * How the setup reads the initial values (docs/profiles.md "Read strategy"): COMPOSITE, one
 * Read-Composite (LwM2M-Core 1.2 §6.3.8) falling back to single Reads when the device lacks it;
 * SINGLE, one Read per path (§6.3.1), never a composite operation: for fleets known to lack them.
 */
export const READ_STRATEGIES = ['COMPOSITE', 'SINGLE'] as const;
export type ReadStrategy = (typeof READ_STRATEGIES)[number];

/** What happens to a value whose path the profile does not map (docs/profiles.md "Unmapped paths"). */
export const UNMAPPED_POLICIES = ['path', 'drop'] as const;
export type UnmappedPolicy = (typeof UNMAPPED_POLICIES)[number];

/** "/3/0/9", "3/0/9" or "/3_1.2/0/9"; not the root. */
const pathText = z.string().superRefine((text, ctx) => {
  try {
    if (pathLevel(parseVersionedPath(text).path) === 'root')
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'the root path "/" cannot be mapped' });
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: errorMessage(err) });
  }
});

const nonNegativeInt = z.number().int().nonnegative();
const bit = z.union([z.literal(0), z.literal(1)]);

/**
 * Notification attributes per path (LwM2M-Core 1.2 §5.1.2). `null` removes an attribute.
 * ThingsBoard's ObjectAttributes also carries dim, ssid, uri, ver and lwm2m: accepted, not written
 * (they are not notification attributes).
 */
const attributesSchema = z
  .object({
    pmin: nonNegativeInt.nullable().optional(),
    pmax: nonNegativeInt.nullable().optional(),
    gt: z.number().finite().nullable().optional(),
    lt: z.number().finite().nullable().optional(),
    st: z.number().finite().nonnegative().nullable().optional(),
    epmin: nonNegativeInt.nullable().optional(),
    epmax: nonNegativeInt.nullable().optional(),
    edge: bit.nullable().optional(),
    con: bit.nullable().optional(),
    hqmax: nonNegativeInt.nullable().optional(),
    dim: z.unknown().optional(),
    ssid: z.unknown().optional(),
    uri: z.unknown().optional(),
    ver: z.unknown().optional(),
    lwm2m: z.unknown().optional(),
  })
  .strict()
  .superRefine((attrs, ctx) => {
    const picked = pickNotificationAttributes(attrs);
    if (Object.keys(picked).length === 0) return;
    try {
      attributesToQuery(picked);
    } catch (err) {
      if (!(err instanceof AttributeError)) throw err;
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: err.message });
    }
  })
  .transform(pickNotificationAttributes);

function pickNotificationAttributes(attrs: Partial<Record<string, unknown>>): NotificationAttributes {
  const out: Record<string, number | null> = {};
  for (const name of ATTRIBUTE_NAMES) {
    const v = attrs[name];
    if (typeof v === 'number' || v === null) out[name] = v;
  }
  return out;
}

const observeAttrSchema = z
  .object({
    /** path → key name of the value in telemetry/attribute records. */
    keyName: z.record(pathText, z.string().trim().min(1, 'a key name must not be empty')).default({}),
    observe: z.array(pathText).default([]),
    attribute: z.array(pathText).default([]),
    telemetry: z.array(pathText).default([]),
    attributeLwm2m: z.record(pathText, attributesSchema).default({}),
    observeStrategy: z.enum(OBSERVE_STRATEGIES).optional(),
    /** ThingsBoard: initial reads follow the observe strategy (SINGLE → readStrategy SINGLE, else COMPOSITE). */
    initAttrTelAsObsStrategy: z.boolean().optional(),
  })
  .strict();

/** Unix ms, or an ISO 8601 date-time. */
const timestamp = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .refine(
      (s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)),
      'must be Unix milliseconds or an ISO 8601 date-time',
    )
    .transform((s) => Date.parse(s)),
]);

export const profileSchema = z
  .object({
    name: z.string().trim().min(1, 'a profile needs a name').max(256),
    description: z.string().optional(),
    /** Newest wins: compared first by updatedAt, then by version, else by arrival order. */
    updatedAt: timestamp.optional(),
    version: nonNegativeInt.optional(),
    observeAttr: observeAttrSchema.default({}),
    /** Alias of observeAttr.observeStrategy (ThingsBoard keeps it inside observeAttr). */
    observeStrategy: z.enum(OBSERVE_STRATEGIES).optional(),
    /** How initial values are read (default COMPOSITE, or as initAttrTelAsObsStrategy says). */
    readStrategy: z.enum(READ_STRATEGIES).optional(),
    unmappedPaths: z.enum(UNMAPPED_POLICIES).default('path'),
    /** ThingsBoard's client settings: kept for later use, not interpreted yet. */
    clientLwM2mSettings: z.record(z.unknown()).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const inner = p.observeAttr.observeStrategy;
    if (inner !== undefined && p.observeStrategy !== undefined && inner !== p.observeStrategy) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['observeStrategy'],
        message: `differs from observeAttr.observeStrategy (${inner})`,
      });
    }
    const followed = readStrategyFollowingObserve(p);
    if (followed !== undefined && p.readStrategy !== undefined && followed !== p.readStrategy) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['readStrategy'],
        message: `differs from the ${followed} that observeAttr.initAttrTelAsObsStrategy gives with this observeStrategy`,
      });
    }
    checkKeyNames(p.observeAttr.keyName, ctx);
  });

/** ThingsBoard's initAttrTelAsObsStrategy: reads as the observations are made (undefined when not set). */
function readStrategyFollowingObserve(p: {
  observeAttr: { initAttrTelAsObsStrategy?: boolean | undefined; observeStrategy?: ObserveStrategy | undefined };
  observeStrategy?: ObserveStrategy | undefined;
}): ReadStrategy | undefined {
  if (p.observeAttr.initAttrTelAsObsStrategy !== true) return undefined;
  return (p.observeAttr.observeStrategy ?? p.observeStrategy ?? 'SINGLE') === 'SINGLE' ? 'SINGLE' : 'COMPOSITE';
}

/** The read strategy a profile asks for: explicit, else as initAttrTelAsObsStrategy says, else COMPOSITE. */
export function readStrategyOf(p: ProfileDefinition): ReadStrategy {
  return p.readStrategy ?? readStrategyFollowingObserve(p) ?? 'COMPOSITE';
}

export type ProfileDefinition = z.output<typeof profileSchema>;

/** Two paths with one key, or one path (written with different versions) with two keys, are errors. */
function checkKeyNames(keyName: Readonly<Record<string, string>>, ctx: z.RefinementCtx): void {
  const pathByKey = new Map<string, string>();
  const keyByPath = new Map<string, string>();
  for (const [text, key] of Object.entries(keyName)) {
    const path = formatPath(parseVersionedPath(text).path);
    const field = ['observeAttr', 'keyName', text];
    const other = pathByKey.get(key);
    if (other !== undefined && other !== path)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: field, message: `key "${key}" already names ${other}` });
    const known = keyByPath.get(path);
    if (known !== undefined && known !== key)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: field, message: `${path} already has the key "${known}"` });
    pathByKey.set(key, path);
    keyByPath.set(path, key);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const OUR_TOP_LEVEL = [
  'description',
  'updatedAt',
  'version',
  'observeStrategy',
  'readStrategy',
  'unmappedPaths',
] as const;

/** Lifts the transport configuration out of a ThingsBoard export; returns the prefix of its fields. */
function unwrapThingsBoard(
  input: Record<string, unknown>,
): { doc: Record<string, unknown>; prefix: string } | undefined {
  const profileData = input['profileData'];
  const fromExport = isRecord(profileData) && isRecord(profileData['transportConfiguration']);
  const tc = fromExport
    ? (profileData as Record<string, unknown>)['transportConfiguration']
    : input['transportConfiguration'];
  if (!isRecord(tc)) return undefined;
  const doc: Record<string, unknown> = { name: input['name'] };
  // ThingsBoard exports carry `description: null` and its entity `version` (bumped on every save).
  for (const k of OUR_TOP_LEVEL) if (input[k] !== undefined && input[k] !== null) doc[k] = input[k];
  if (tc['observeAttr'] !== undefined) doc['observeAttr'] = tc['observeAttr'];
  if (tc['clientLwM2mSettings'] !== undefined) doc['clientLwM2mSettings'] = tc['clientLwM2mSettings'];
  return { doc, prefix: fromExport ? 'profileData.transportConfiguration.' : 'transportConfiguration.' };
}

function fieldName(path: ReadonlyArray<string | number>, prefix: string): string {
  const inner = path.length === 0 ? '(document)' : path.join('.');
  return prefix !== '' && (path[0] === 'observeAttr' || path[0] === 'clientLwM2mSettings') ? prefix + inner : inner;
}

/**
 * Validates a profile document (already parsed from JSON). Throws ProfileError naming each bad
 * field; `origin` says where the document came from ("file:/etc/profiles/a.json", "topic:profiles").
 */
export function parseProfile(input: unknown, origin: string): ProfileDefinition {
  if (!isRecord(input))
    throw new ProfileError(`profile from ${origin} is invalid`, [
      { field: '(document)', message: 'must be a JSON object' },
    ]);
  const unwrapped = unwrapThingsBoard(input);
  const doc = unwrapped?.doc ?? input;
  const parsed = profileSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const issues: ProfileIssue[] = parsed.error.issues.map((i) => ({
    field: fieldName(i.path, unwrapped?.prefix ?? ''),
    message: i.message,
  }));
  const name = typeof doc['name'] === 'string' ? ` "${doc['name']}"` : '';
  throw new ProfileError(`profile${name} from ${origin} is invalid`, issues);
}
