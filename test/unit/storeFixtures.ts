import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { appendHandoff, type HandoffInput } from '../../src/core/conductor/handoff';
import { FileAuditLog } from '../../src/core/store/audit';
import type { RunEvent } from '../../src/core/model/run';
import type { AuditEntry, RunStorage } from '../../src/core/store/types';
import { REPO } from './helpers';

/**
 * Fixtures of the store tests. Run as a script, this file is the other process of the
 * cross-process tests of the audit log and handoff.md: it appends `count` entries at once
 * (none awaited before the next starts) — the same entries the tests import to check.
 *
 *   node --import tsx test/unit/storeFixtures.ts <audit|handoff> <root> <tag> <count>
 */

/** The time of the sample events. */
export const AT = '2026-01-01T00:00:00.000Z';

/** The events of a small finished run: a started, b retried once then failed. */
export function sampleRun(runId: string, melody = 'm'): RunEvent[] {
  return [
    { type: 'run-started', runId, at: AT, melody, file: 'm.melody.yaml', definitionHash: 'd', inputs: { x: 1 }, trigger: { kind: 'manual' } },
    { type: 'node-started', runId, at: AT, nodeId: 'a', attempt: 1, iteration: 0, provenance: 'p' },
    { type: 'node-log', runId, at: AT, nodeId: 'a', stream: 'stdout', text: 'hello ✓' },
    { type: 'node-finished', runId, at: AT, nodeId: 'a', status: 'success', attempts: 1, iterations: 0, output: { ok: true }, durationMs: 1500, tokens: { input: 10, output: 5 }, costUsd: 0.01 },
    { type: 'node-started', runId, at: AT, nodeId: 'b', attempt: 1, iteration: 0, provenance: 'p' },
    { type: 'node-retried', runId, at: AT, nodeId: 'b', attempt: 1, delayMs: 0, error: 'boom' },
    { type: 'node-started', runId, at: AT, nodeId: 'b', attempt: 2, iteration: 0, provenance: 'p' },
    { type: 'node-finished', runId, at: AT, nodeId: 'b', status: 'failure', attempts: 2, iterations: 0, error: 'boom', durationMs: 250 },
    { type: 'run-finished', runId, at: '2026-01-01T00:00:02.000Z', status: 'failure', tokens: { input: 10, output: 5 }, costUsd: 0.01, durationMs: 2000, error: 'b failed' },
  ];
}

/** Writes a whole run through a journal, as the engine does. */
export async function storeRun(storage: RunStorage, events: readonly RunEvent[]): Promise<void> {
  const journal = await storage.create(events[0]!.runId);
  for (const e of events) await journal.append(e);
  await journal.close();
}

/** A handoff entry big enough (a few KiB) that a torn or interleaved write would show. */
export function sampleHandoff(tag: string, i: number): HandoffInput {
  return {
    nickname: `${tag}-${i}`,
    instrument: `ensemble-${tag}/instrument-${i}`,
    model: 'model-x',
    tokens: { input: i, output: 2 * i },
    files: [`src/${tag}/${i}.ts`, `docs/${tag}.md`],
    summary: `Turn ${tag}-${i}.\n\n${`${tag}:${i} `.repeat(300).trim()}\n---\n### not a heading`,
  };
}

/** An audit entry carrying who wrote it. */
export function sampleAudit(tag: string, i: number): AuditEntry {
  return { action: 'test-append', actor: tag, detail: { i, padding: 'x'.repeat(200) } };
}

/** Runs this file as a child process (argument array, no shell) and waits for it. */
export async function runChild(mode: 'audit' | 'handoff', root: string, tag: string, count: number): Promise<void> {
  // cwd = the repository, where `--import tsx` resolves.
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, 'storeFixtures.ts'), mode, root, tag, String(count)], { cwd: REPO });
}

async function main(argv: readonly string[]): Promise<void> {
  const [mode, root, tag, count] = argv;
  if (!root || !tag || !count) throw new Error('usage: storeFixtures.ts <audit|handoff> <root> <tag> <count>');
  const n = Number(count);
  const audit = new FileAuditLog(root);
  await Promise.all(
    Array.from({ length: n }, (_, i) => (mode === 'audit' ? audit.append(sampleAudit(tag, i)) : appendHandoff(root, sampleHandoff(tag, i)))),
  );
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
