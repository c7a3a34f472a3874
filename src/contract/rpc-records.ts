/**
 * RPC records: requests (topic `rpc.requests`, in) and responses (topic `rpc.responses`, out).
 * Method names and params are ThingsBoard's LwM2M RPC ones, so a platform can switch over; the
 * response carries typed JSON keyed by path instead of Java `toString` text.
 * Schema version: SCHEMA_VERSION (./version.ts).
 */
import { z } from 'zod';
import { ContentFormat } from '../lwm2m/codec/types';
import { jsonValueSchema, resourceTypeSchema } from './value-records';

export const RPC_METHODS = [
  'Read',
  'ReadComposite',
  'Discover',
  'DiscoverAll',
  'WriteReplace',
  'WriteUpdate',
  'WriteComposite',
  'WriteAttributes',
  'Execute',
  'Create',
  'Delete',
  'Observe',
  'ObserveComposite',
  'ObserveCancel',
  'ObserveCompositeCancel',
  'ObserveCancelAll',
  'ObserveReadAll',
] as const;
export type RpcMethod = (typeof RPC_METHODS)[number];

/** Content formats by ThingsBoard / Leshan name, also accepted as numbers (legacy numbers only as numbers). */
export const CONTENT_FORMAT_NAMES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ContentFormat).filter(([name]) => !name.endsWith('_LEGACY')),
);

const attributeValue = z.number().finite().nullable();

export const rpcAttributesSchema = z
  .object({
    pmin: attributeValue,
    pmax: attributeValue,
    gt: attributeValue,
    lt: attributeValue,
    st: attributeValue,
    epmin: attributeValue,
    epmax: attributeValue,
    edge: attributeValue,
    con: attributeValue,
    hqmax: attributeValue,
  })
  .partial()
  .strict()
  .describe('Notification attributes (LwM2M-Core 1.2 §5.1.2); null removes an attribute');

const pathText = z.string().min(1).max(64).describe('LwM2M path, object version allowed: "/3/0/9", "/3_1.2/0/9"');
const keyText = z.string().min(1).max(256).describe('A key of the device profile');

export const rpcParamsSchema = z
  .object({
    id: pathText.optional(),
    key: keyText.optional(),
    ids: z.array(pathText).min(1).max(256).optional(),
    keys: z.array(keyText).min(1).max(256).optional(),
    value: z
      .unknown()
      .optional()
      .describe('Write / Create: typed JSON as in records (src/rpc/json-to-node.ts); Execute: the arguments text'),
    nodes: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('WriteComposite: value by path or key; Create: instance by instance id'),
    attributes: rpcAttributesSchema.optional(),
    contentFormat: z
      .union([z.number().int().nonnegative().max(65535), z.string().min(1)])
      .optional()
      .describe(
        "Format to use instead of the bridge's choice: a number or a name (TLV, SENML_JSON, SENML_CBOR, LWM2M_CBOR, JSON, TEXT, OPAQUE, CBOR)",
      ),
  })
  .strict()
  .describe('Method parameters, as ThingsBoard names them');

export const rpcRequestRecordSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .describe('Request id, unique per request: the response carries it and a repeated id is not executed twice'),
    endpoint: z.string().min(1).max(256).describe('Device endpoint name'),
    method: z.enum(RPC_METHODS),
    params: rpcParamsSchema.default({}),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400_000)
      .optional()
      .describe('Give up (TIMEOUT) this long after the bridge took the request'),
    expiresAt: z.number().int().positive().optional().describe('Give up (TIMEOUT) at this Unix time in ms'),
  })
  .describe('lwm2m-bridge RPC request record');

export const RPC_RESULTS = [
  'CONTENT',
  'CHANGED',
  'CREATED',
  'DELETED',
  'VALID',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'BAD_OPTION',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NOT_ACCEPTABLE',
  'REQUEST_ENTITY_INCOMPLETE',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'REQUEST_ENTITY_TOO_LARGE',
  'UNSUPPORTED_CONTENT_FORMAT',
  'INTERNAL_SERVER_ERROR',
  'NOT_IMPLEMENTED',
  'SERVICE_UNAVAILABLE',
  'TIMEOUT',
  'NOT_REGISTERED',
  'CANCELLED',
] as const;

export const linkSchema = z.object({
  path: z.string(),
  attributes: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

export const rpcResponseRecordSchema = z
  .object({
    id: z.string().min(1).describe('The request id'),
    endpoint: z.string().describe('Device endpoint name; also the record key'),
    method: z.string().describe('The request method (as given, even when unknown)'),
    result: z
      .string()
      .describe(
        `${RPC_RESULTS.join(', ')} (device codes by their CoAP name; a code without a name as CODE_c_dd). ` +
          'TIMEOUT: no answer before the deadline; NOT_REGISTERED: the device is not (or no longer) registered; CANCELLED: the registration ended first',
      ),
    value: z
      .record(z.string(), jsonValueSchema.nullable())
      .optional()
      .describe('Read / Observe values by path (null: the device sent no value for that path)'),
    types: z
      .record(z.string(), resourceTypeSchema)
      .optional()
      .describe('LwM2M type by path, for values that are resources'),
    links: z.array(linkSchema).optional().describe('Discover / DiscoverAll: the links, with their attributes'),
    observations: z
      .array(z.object({ token: z.string(), kind: z.enum(['single', 'composite']), paths: z.array(z.string()) }))
      .optional()
      .describe('ObserveReadAll: the observations of the registration'),
    count: z.number().int().nonnegative().optional().describe('ObserveCancel*: observations cancelled'),
    location: z.string().optional().describe("Create: the new instance's path"),
    error: z
      .string()
      .optional()
      .describe("Why the request failed: a validation message naming the field, or the device's diagnostic payload"),
    ts: z.number().int().nonnegative().describe('Unix ms when the response was made'),
  })
  .describe('lwm2m-bridge RPC response record: exactly one per request id');

export type RpcRequestRecord = z.output<typeof rpcRequestRecordSchema>;
export type RpcParams = z.output<typeof rpcParamsSchema>;
export type RpcResponseRecord = z.output<typeof rpcResponseRecordSchema>;
