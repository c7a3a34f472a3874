/**
 * Telemetry and attribute records (topics `telemetry` and `attributes`): device values under the
 * keys of the device's profile. Schema version: SCHEMA_VERSION (./version.ts).
 */
import { z } from 'zod';
import type { JsonValue } from './values';

export const resourceTypeSchema = z
  .enum(['STRING', 'INTEGER', 'UNSIGNED_INTEGER', 'FLOAT', 'BOOLEAN', 'OPAQUE', 'TIME', 'OBJLNK', 'CORELNK', 'NONE'])
  .describe('LwM2M data type of the resource (LwM2M-Core 1.2 Appendix C)');

const jsonLeafSchema = z.union([z.number(), z.boolean(), z.string()]);

export const jsonValueSchema: z.ZodType<JsonValue> = z
  .lazy(() => z.union([jsonLeafSchema, z.record(z.string(), jsonValueSchema)]))
  .describe(
    'Typed JSON value: number, boolean or string (OPAQUE base64, TIME ISO 8601 UTC, OBJLNK "oid:iid", ' +
      'integers beyond 2^53 as decimal strings); structured nodes as objects keyed by instance or resource id',
  );

export const valueSourceSchema = z
  .object({
    paths: z
      .array(z.string().regex(/^\/\d+(\/\d+){0,3}$/))
      .min(1)
      .describe('LwM2M paths the values were taken from, "/3303/0/5700"'),
    op: z
      .enum(['read', 'notify', 'send', 'observe'])
      .describe(
        "read: a Read by the bridge; observe: the first response to an Observe; notify: a notification; send: the device's Send (LwM2M 1.1+)",
      ),
  })
  .describe('Where the values came from');

const valueRecordShape = {
  endpoint: z.string().min(1).describe('Device endpoint name; also the record key'),
  profile: z
    .string()
    .min(1)
    .nullable()
    .describe('Profile whose mapping named the keys; null when the device has none (keys are then LwM2M paths)'),
  ts: z
    .number()
    .int()
    .nonnegative()
    .describe(
      'Unix time in milliseconds: when measured if the device said (Send, historical notifications), else when received',
    ),
  values: z.record(z.string(), jsonValueSchema).describe('Values by profile key'),
  types: z
    .record(z.string(), resourceTypeSchema)
    .optional()
    .describe('LwM2M type by key, for every key whose value is a resource (absent for object or instance values)'),
  source: valueSourceSchema,
};

export const telemetryRecordSchema = z
  .object(valueRecordShape)
  .describe('lwm2m-bridge telemetry record: time series values of a device');
export const attributesRecordSchema = z
  .object(valueRecordShape)
  .describe('lwm2m-bridge attributes record: the current state values of a device');

export type TelemetryRecord = z.infer<typeof telemetryRecordSchema>;
export type AttributesRecord = z.infer<typeof attributesRecordSchema>;
export type ValueSource = z.infer<typeof valueSourceSchema>;
