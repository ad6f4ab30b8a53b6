/**
 * The severities of a deviation, least first. A module of its own, without zod, so the
 * CLI can offer them as `--severity` choices before it loads any schema.
 */
export const SEVERITIES = ['minor', 'major', 'fundamental'] as const;
export type DeviationSeverity = (typeof SEVERITIES)[number];
