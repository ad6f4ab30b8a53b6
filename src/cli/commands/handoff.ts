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
