import { z } from 'zod';
import { SEVERITIES, type DeviationSeverity } from './severity';

/** Deviations, DESIGN.md §5: code markers and the records in `.symphony/DEVIATIONS.json`. */

export { SEVERITIES, type DeviationSeverity };

/** The marker written in a comment for each severity. */
export const MARKER_OF: Readonly<Record<DeviationSeverity, string>> = {
  minor: 'DEVIATION_MINOR',
  major: 'ARCHITECTURAL_MISMATCH',
  fundamental: 'FUNDAMENTAL_BREAK',
};

export const markerLocationSchema = z.strictObject({
  file: z.string().meta({ description: 'Workspace-relative path.' }),
  line: z.number().int().min(1),
  column: z.number().int().min(1).optional(),
  text: z
    .string()
    .optional()
    .meta({ description: "The marker's message when it was linked: it keeps the link when edits move the marker to another line." }),
});
export type MarkerLocation = z.output<typeof markerLocationSchema>;

export const deviationRecordSchema = z.strictObject({
  id: z.string().min(1),
  agent: z.string().min(1).meta({ description: 'Who found it (an instrument nickname or a person).' }),
  module: z.string().min(1),
  severity: z.enum(SEVERITIES),
  expected: z.string().meta({ description: 'What the architecture said.' }),
  discovered: z.string().meta({ description: 'What the code actually needed.' }),
  action: z.string().meta({ description: 'What was done about it.' }),
  reasoning: z.string(),
  impact: z.string(),
  status: z.enum(['open', 'resolved']).default('open'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  resolvedAt: z.iso.datetime().optional(),
  markers: z.array(markerLocationSchema).default([]),
});
export type DeviationRecord = z.output<typeof deviationRecordSchema>;

export const deviationsFileSchema = z.strictObject({
  version: z.literal(1),
  deviations: z.array(deviationRecordSchema),
});
export type DeviationsFile = z.output<typeof deviationsFileSchema>;
