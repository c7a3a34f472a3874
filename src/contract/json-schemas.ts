/**
 * JSON Schemas of the outgoing Kafka records, generated from the zod schemas (the single source
 * of truth). scripts/gen-kafka-schemas.ts writes them to docs/kafka/; a unit test checks that the
 * committed files are what this produces.
 */
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { ZodTypeAny } from 'zod';
import { eventRecordSchema } from './event-records';
import { rpcRequestRecordSchema, rpcResponseRecordSchema } from './rpc-records';
import { attributesRecordSchema, jsonValueSchema, telemetryRecordSchema } from './value-records';
import { SCHEMA_VERSION } from './version';

export const JSON_SCHEMA_DIR = 'docs/kafka';

const RECORDS: ReadonlyArray<{
  readonly topic: string;
  readonly schema: ZodTypeAny;
  readonly definitions: Record<string, ZodTypeAny>;
}> = [
  { topic: 'telemetry', schema: telemetryRecordSchema, definitions: { 'json-value': jsonValueSchema } },
  { topic: 'attributes', schema: attributesRecordSchema, definitions: { 'json-value': jsonValueSchema } },
  { topic: 'events', schema: eventRecordSchema, definitions: {} },
  { topic: 'rpc.requests', schema: rpcRequestRecordSchema, definitions: {} },
  { topic: 'rpc.responses', schema: rpcResponseRecordSchema, definitions: { 'json-value': jsonValueSchema } },
];

export interface GeneratedSchema {
  /** File name inside JSON_SCHEMA_DIR. */
  readonly file: string;
  /** File content, ending with a newline. */
  readonly text: string;
}

export function generateJsonSchemas(): GeneratedSchema[] {
  return RECORDS.map(({ topic, schema, definitions }) => {
    const { $schema, ...json } = zodToJsonSchema(schema, {
      name: `${topic}-record`,
      target: 'jsonSchema7',
      $refStrategy: 'root',
      definitions,
      // Fields are only ever added within a schema version, so consumers must accept unknown ones:
      // "strict" here means zod's default (strip) objects allow additional properties.
      removeAdditionalStrategy: 'strict',
    });
    const doc = {
      $schema,
      $id: `lwm2m-bridge/kafka/v${SCHEMA_VERSION}/${topic}.schema.json`,
      title: `${topic} record, schema version ${SCHEMA_VERSION}`,
      ...json,
    };
    return { file: `${topic}.schema.json`, text: `${JSON.stringify(doc, null, 2)}\n` };
  });
}
