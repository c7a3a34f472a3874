/**
 * Lifecycle event records (topic `events`): registration, queue mode, observation and
 * firmware/software update events of a device. Schema version: SCHEMA_VERSION (./version.ts).
 */
import { z } from 'zod';
import { jsonValueSchema, resourceTypeSchema } from './value-records';
import type { Registration } from '../server/registration/registration';

export const eventTypeSchema = z
  .enum([
    'registered',
    'updated',
    'deregistered',
    'expired',
    'sleeping',
    'awake',
    'observe-failed',
    'observe-lost',
    'firmware-state',
    'software-state',
    'profile-applied',
    'profile-missing',
    'paths-skipped',
    'version-mismatch',
    'read-failed',
    'capability-fallback',
    'write-attributes-failed',
    'unreachable',
    'rpc-queued',
    'rpc-sent',
    'rpc-delivered',
    'notification',
  ])
  .describe(
    "registered/updated/deregistered: the device's Register, Update, De-register; expired: its lifetime ran out; " +
      'sleeping/awake: queue mode; observe-failed: an Observe the bridge sent was refused or unanswered; observe-lost: an ' +
      'established observation ended without the bridge cancelling it (device RST, error or non-Observe notification); firmware-state/software-state: ' +
      "update state of object 5 or 9 changed; profile-applied: the profile's reads, attributes and observations were set up " +
      '(again after a profile or assignment change); profile-missing: no (known) profile is assigned; paths-skipped: profile ' +
      'paths the device does not announce; version-mismatch: a profile path names another object version than the device; ' +
      'read-failed / write-attributes-failed: a setup step the device refused; capability-fallback: the device lacks something the bridge ' +
      'asked for, and the bridge went on without it: a composite operation of the setup failed (detail.method, detail.reason) and the setup ' +
      'went on path by path, or a content format was refused (detail.contentFormat, detail.reason NOT_ACCEPTABLE or ' +
      'UNSUPPORTED_CONTENT_FORMAT) and the request was sent again in detail.fallbackContentFormat; either is remembered for the ' +
      'registration; unreachable: a request to the device went unanswered ' +
      'after every retransmission; rpc-queued / rpc-sent / rpc-delivered: progress of an RPC request (detail.rpcId): taken and held, ' +
      'sent to the device, answered by the device (its final response goes to the responses topic); notification: values of an observation created by RPC ' +
      "that the device's profile has no key for (detail.values by path). Consumers must ignore types they do not know.",
  );

export const registrationSummarySchema = z
  .object({
    id: z.string().min(1).describe('Registration id, the /rd/<id> location'),
    lwm2mVersion: z.enum(['1.0', '1.1', '1.2']),
    binding: z.string().describe('Binding mode ("U", "UQ", "T", ...)'),
    queueMode: z.boolean(),
    lifetime: z.number().int().nonnegative().describe('Seconds'),
    address: z.string().describe('Source IP address of the device as seen by the bridge'),
    port: z.number().int().min(0).max(65535),
    rootPath: z.string().describe('Alternate path of the LwM2M objects, "/" by default'),
    objects: z
      .array(
        z.object({
          objectId: z.number().int().nonnegative(),
          version: z.string().optional(),
          instances: z.array(z.number().int().nonnegative()),
        }),
      )
      .describe('Objects and object instances the device announced'),
    supportedContentFormats: z.array(z.number().int().nonnegative()).optional(),
    registeredAt: z.number().int().describe('Unix ms'),
    lastUpdate: z.number().int().describe('Unix ms'),
    expiresAt: z.number().int().describe('Unix ms after which the registration expires unless updated'),
  })
  .describe('The registration as it stands after the event');

export const eventDetailSchema = z
  .object({
    reason: z
      .string()
      .optional()
      .describe(
        'Why an observation ended or failed: "reset", "error-response", "not-observable", "timeout", or the CoAP response code',
      ),
    paths: z.array(z.string()).optional().describe('LwM2M paths concerned (observation paths)'),
    message: z.string().optional().describe('Human-readable detail'),
    addressChanged: z.boolean().optional().describe('updated: the device now speaks from another address or port'),
    previousRegistrationId: z.string().optional().describe('registered: the registration this one replaced'),
    state: z.string().optional().describe('firmware-state/software-state: the new update state'),
    result: z
      .string()
      .optional()
      .describe(
        "firmware-state/software-state: the update result; rpc-delivered: the device's answer (CONTENT, CHANGED, NOT_FOUND...)",
      ),
    rpcId: z.string().optional().describe('rpc-*: the request id'),
    method: z
      .string()
      .optional()
      .describe(
        'rpc-*: the request method; capability-fallback: the operation that failed (Read-Composite, Observe-Composite; Read, Observe, Write, Create... for a refused format)',
      ),
    contentFormat: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('capability-fallback: the CoAP content format the device refused'),
    fallbackContentFormat: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('capability-fallback: the content format the request was sent in next'),
    values: z
      .record(z.string(), jsonValueSchema)
      .optional()
      .describe('notification: typed JSON values by resource path'),
    types: z.record(z.string(), resourceTypeSchema).optional().describe('notification: LwM2M type by resource path'),
  })
  .describe('Event-specific detail');

export const eventRecordSchema = z
  .object({
    endpoint: z.string().min(1).describe('Device endpoint name; also the record key'),
    ts: z.number().int().nonnegative().describe('Unix time in milliseconds when the bridge saw the event'),
    type: eventTypeSchema,
    registration: registrationSummarySchema.optional(),
    detail: eventDetailSchema.optional(),
  })
  .describe('lwm2m-bridge lifecycle event record');

export type EventType = z.infer<typeof eventTypeSchema>;
export type RegistrationSummary = z.infer<typeof registrationSummarySchema>;
export type EventDetail = z.infer<typeof eventDetailSchema>;
export type EventRecord = z.infer<typeof eventRecordSchema>;

/** The public summary of a registration (drops the raw link payload and the SMS number). */
export function registrationSummary(reg: Registration): RegistrationSummary {
  return {
    id: reg.id,
    lwm2mVersion: reg.lwm2mVersion,
    binding: reg.binding,
    queueMode: reg.queueMode,
    lifetime: reg.lifetime,
    address: reg.address,
    port: reg.port,
    rootPath: reg.rootPath,
    objects: reg.objects.map((o) => ({
      objectId: o.objectId,
      ...(o.version !== undefined ? { version: o.version } : {}),
      instances: [...o.instances],
    })),
    ...(reg.supportedContentFormats !== undefined ? { supportedContentFormats: [...reg.supportedContentFormats] } : {}),
    registeredAt: reg.registeredAt,
    lastUpdate: reg.lastUpdate,
    expiresAt: reg.expiresAt,
  };
}
