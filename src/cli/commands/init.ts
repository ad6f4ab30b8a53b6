import { resolve } from 'node:path';
import { initWorkspace } from '../../core/workspace/init';
import type { CliEnvironment } from '../options';
import { displayPath, paint, plural } from '../print';

/** `symphony init [dir]` — creates the workspace skeleton, never overwriting a file. */
export async function initCommand(env: CliEnvironment, dir: string | undefined): Promise<number> {
  const root = resolve(env.cwd, dir ?? '.');
  const result = await initWorkspace(root, env.templatesRoot);
  for (const f of result.created) env.stdout(`${paint(env.color, 'green', 'created')} ${f}\n`);
  for (const f of result.skipped) {
    const why = f.reason === 'exists' ? 'already exists' : 'the workspace has its own';
    env.stdout(`${paint(env.color, 'dim', 'skipped')} ${f.path} (${why})\n`);
  }
  const where = displayPath(env.cwd, root) || '.';
  env.stdout(
    `\n${plural(result.created.length, 'file')} created, ${plural(result.skipped.length, 'file')} skipped in ${where}.\n` +
      `Next: edit sheetMusic.md, then run \`symphony validate ${where}\`.\n`,
  );
  return 0;
}
