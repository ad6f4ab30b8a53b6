import { z } from 'zod';
import { mergePlanSchema } from './chamber';
import { deviationsFileSchema } from './deviation';
import { ensembleSchema, instrumentSchema } from './instrument';
import { melodySchema } from './melody';

/**
 * The JSON Schemas shipped in `schemas/` for editors (YAML language servers read them for
 * validation, hover and completion), generated from the zod schemas so they never drift.
 */
export function jsonSchemas(): Record<string, unknown> {
  const gen = (schema: z.ZodType, id: string) => ({
    ...z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }),
    $id: `https://symphony.dev/schemas/${id}`,
  });
  return {
    'melody.schema.json': gen(melodySchema(), 'melody.schema.json'),
    'instrument.schema.json': gen(instrumentSchema, 'instrument.schema.json'),
    'ensemble.schema.json': gen(ensembleSchema, 'ensemble.schema.json'),
    'deviations.schema.json': gen(deviationsFileSchema, 'deviations.schema.json'),
    'merge-plan.schema.json': gen(mergePlanSchema, 'merge-plan.schema.json'),
  };
}
