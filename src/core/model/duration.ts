import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/**
 * Parses `500ms`, `1s`, `1.5m`, `2h` (or a bare number of milliseconds) into milliseconds.
 * Returns `undefined` for anything else.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A duration as written in a melody: `"500ms"`, `"30s"`, `"5m"`, `"1h"`, or milliseconds. */
export const durationSchema = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, {
    message: 'expected a duration such as "500ms", "30s", "5m" or "1h"',
  })
  .meta({ description: 'A duration: "500ms", "30s", "5m", "1h", or a number of milliseconds.' });
