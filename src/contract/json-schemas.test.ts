/**
 * The committed contract documents never drift from the zod schemas: the JSON Schemas in
 * docs/kafka/ are what the generator produces now, and every example in docs/kafka/README.md
 * is a valid record of its topic.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ZodTypeAny } from 'zod';
import { eventRecordSchema } from './event-records';
import { JSON_SCHEMA_DIR, generateJsonSchemas } from './json-schemas';
import { attributesRecordSchema, telemetryRecordSchema } from './value-records';

const ROOT = resolve(__dirname, '..', '..');
const REGENERATE = 'regenerate with: npm run build && node dist/scripts/gen-kafka-schemas.js';

describe('Kafka contract documents', () => {
  it.each(generateJsonSchemas().map((s) => [s.file, s.text]))('%s is what the zod schemas generate', (file, text) => {
    const committed = readFileSync(join(ROOT, JSON_SCHEMA_DIR, file), 'utf8');
    if (committed !== text)
      throw new Error(`${JSON_SCHEMA_DIR}/${file} is out of date with src/contract; ${REGENERATE}`);
  });

  it('every README example is valid for its topic', () => {
    const schemas: Record<string, ZodTypeAny> = {
      telemetry: telemetryRecordSchema,
      attributes: attributesRecordSchema,
      events: eventRecordSchema,
    };
    const readme = readFileSync(join(ROOT, JSON_SCHEMA_DIR, 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/<!-- example: (\w+) -->\n```json\n([\s\S]*?)\n```/g)];
    expect(examples.map((m) => m[1])).toEqual(['telemetry', 'attributes', 'telemetry', 'events', 'events']);
    for (const [, topic, json] of examples) {
      const schema = schemas[topic ?? ''];
      if (schema === undefined) throw new Error(`example for unknown topic ${topic}`);
      const parsed = schema.safeParse(JSON.parse(json ?? ''));
      if (!parsed.success) throw new Error(`README example for ${topic} is invalid: ${parsed.error.message}`);
    }
  });
});
