import { ARCHIVE_FILE, compactHandoff } from '../../core/conductor/compact';
import { appendHandoff } from '../../core/conductor/handoff';
import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot } from '../../core/load/workspace';
import type { CliEnvironment } from '../options';

/** `symphony handoff append --instrument NICK --model M --summary S [--file F]...` */
export async function handoffAppendCommand(
  env: CliEnvironment,
  options: { instrument: string; model?: string; summary: string; file?: string[] },
): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  await appendHandoff(root, { nickname: options.instrument, model: options.model, summary: options.summary, files: options.file });
  env.stdout(`appended an entry by ${options.instrument} to handoff.md\n`);
  return 0;
}

/** `symphony handoff compact [--keep N]`: older entries to handoff.archive.md, a digest in their place. */
export async function handoffCompactCommand(env: CliEnvironment, options: { keep: number }): Promise<number> {
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const r = await compactHandoff(root, { keep: options.keep });
  const entries = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;
  if (r.moved === 0) {
    env.stdout(`nothing to compact: handoff.md has ${entries(r.kept)} (keeping the newest ${options.keep})\n`);
  } else {
    env.stdout(`moved ${entries(r.moved)} (${r.from} to ${r.to}) to ${ARCHIVE_FILE}, which now holds ${entries(r.archived)}; handoff.md keeps the newest ${r.kept} and a digest of the archive\n`);
  }
  return 0;
}
