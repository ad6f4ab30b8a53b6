// Writes schemas/*.schema.json from the zod schemas in src/core/model.
// Run with `npm run schemas`; a unit test fails when the committed files are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas } from '../src/core/model/jsonSchema';

const dir = join(__dirname, '..', 'schemas');
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(dir, name), JSON.stringify(schema, null, 2) + '\n');
  console.log(`wrote schemas/${name}`);
}
