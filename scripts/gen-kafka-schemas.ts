/**
 * Writes the JSON Schemas of the Kafka records (docs/kafka/*.schema.json) from the zod schemas.
 * Run after changing src/contract: `npm run build && node dist/scripts/gen-kafka-schemas.js`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JSON_SCHEMA_DIR, generateJsonSchemas } from '../src/contract/json-schemas';

// Compiled to dist/scripts/, run from source by ts tools in scripts/: find the repository root either way.
const root = __dirname.includes(`${join('dist', 'scripts')}`)
  ? resolve(__dirname, '..', '..')
  : resolve(__dirname, '..');
const dir = join(root, JSON_SCHEMA_DIR);
mkdirSync(dir, { recursive: true });
for (const s of generateJsonSchemas()) {
  writeFileSync(join(dir, s.file), s.text);
  process.stdout.write(`wrote ${join(JSON_SCHEMA_DIR, s.file)}\n`);
}
