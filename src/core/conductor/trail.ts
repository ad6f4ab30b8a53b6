import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Ensemble } from '../model/instrument';
import { readHandoff } from './compact';
import { HANDOFF_FILE, type HandoffEntry } from './handoff';

/** What the Conductor left about the instruments: each one's last turn and each ensemble's summary. */
export interface ConductorTrail {
  /** The newest handoff entry of each instrument, by `ensemble/instrument`. */
  readonly lastTurn: ReadonlyMap<string, HandoffEntry>;
  /** `ensembles/<e>/summary.txt`, by ensemble id. */
  readonly summaries: ReadonlyMap<string, string>;
}

/**
 * Reads the trail; missing files are an empty trail, never an error. `read` gives a file's
 * text as `fs.readFile(path, 'utf8')` does (the default), invalid bytes replaced.
 */
export async function loadTrail(root: string, ensembles: readonly Ensemble[], read: (path: string) => Promise<string> = (path) => fsp.readFile(path, 'utf8')): Promise<ConductorTrail> {
  const lastTurn = new Map<string, HandoffEntry>();
  const text = await read(join(root, HANDOFF_FILE)).catch(() => '');
  for (const entry of readHandoff(text).entries) if (entry.instrument) lastTurn.set(entry.instrument, entry);
  const summaries = new Map<string, string>();
  await Promise.all(
    ensembles.map(async (e) => {
      const summary = await read(join(e.dir, 'summary.txt')).catch(() => undefined);
      if (summary?.trim()) summaries.set(e.id, summary.trim());
    }),
  );
  return { lastTurn, summaries };
}
