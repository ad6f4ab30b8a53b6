import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers';

/**
 * The attacker's rig of the hardening tests: a workspace with the files an attack needs,
 * and `symphony run --json` on it through the real CLI, in-process.
 */

/** What `symphony run --json` prints, as far as the attacks look. */
export interface RunJson {
  status: string;
  runId: string;
  nodes: Record<string, { status: string; error?: string; output?: unknown }>;
}

/** A workspace with `sheetMusic.md` and the given files; returns its root. */
export function workspace(files: Record<string, string>): string {
  const root = tempDir('symphony-attack-');
  writeFileSync(join(root, 'sheetMusic.md'), '# attack\n');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Runs a melody of `root` with Symphony started in the environment `env` (PATH as the tests' by default). */
export async function run(root: string, melody: string, env: Record<string, string> = {}): Promise<RunJson> {
  const r = await cli(root, ['run', melody, '--json'], { env: { PATH: process.env.PATH, ...env } });
  assert.ok(r.stdout.trim().startsWith('{'), `symphony run printed no JSON:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as RunJson;
}
