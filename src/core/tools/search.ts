import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { matchingFiles } from '../context/files';
import { realWorkspaceRoot } from '../nodes/support';
import type { NodeContext } from '../nodes/types';
import { ToolRefusal } from './refusal';

/** Matches the `search` tool returns at most: enough to orient, few enough to read. */
export const SEARCH_LIMIT = 100;
/** Characters of a matched line kept. */
const LINE_LIMIT = 300;

type SearchContext = Pick<NodeContext, 'workspaceRoot' | 'permissions' | 'signal'>;

/**
 * The `search` tool: `file:line: text` for each line matching `pattern`, in path order.
 * ripgrep does the work when it is installed (it honours .gitignore and skips binaries);
 * otherwise every file the glob matches is read here with a JavaScript regular
 * expression, which accepts the same patterns for all but ripgrep's extensions. Either way
 * only files the melody may read are reported, and Symphony's records never are.
 */
export async function searchWorkspace(ctx: SearchContext, pattern: string, glob?: string): Promise<string> {
  const root = await realWorkspaceRoot(ctx.workspaceRoot);
  const lines = (await ripgrep(root, pattern, glob, ctx.signal)) ?? (await walkSearch(ctx, root, pattern, glob));
  const allowed: string[] = [];
  let more = 0;
  for (const line of lines) {
    const file = line.slice(0, line.indexOf(':'));
    if (!(await ctx.permissions.resolveRead(file).then(() => true, () => false))) continue;
    if (allowed.length < SEARCH_LIMIT) allowed.push(line.length > LINE_LIMIT ? `${line.slice(0, LINE_LIMIT)}…` : line);
    else more++;
  }
  if (!allowed.length) return `(no match for /${pattern}/${glob ? ` in ${glob}` : ''})`;
  return allowed.join('\n') + (more ? `\n[${more} more matches not shown; narrow the pattern or the glob]` : '');
}

/** ripgrep's matches as `file:line: text`, or undefined when ripgrep is not installed. */
function ripgrep(root: string, pattern: string, glob: string | undefined, signal: AbortSignal): Promise<string[] | undefined> {
  const args = ['--no-config', '--line-number', '--with-filename', '--no-heading', '--color', 'never', '--hidden', '--glob', '!.git', '--glob', '!.symphony', '--glob', '!node_modules', '--max-columns', String(LINE_LIMIT), '--sort', 'path'];
  if (glob) args.push('--glob', glob);
  args.push('--regexp', pattern, '--', '.');
  return new Promise((resolve, reject) => {
    execFile('rg', args, { cwd: root, signal, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      // execFile's error carries the spawn failure (`code: 'ENOENT'`) or the exit code (a number).
      const code = (error as { code?: unknown } | null)?.code;
      if (error && code === 'ENOENT') return resolve(undefined);
      if (signal.aborted) return reject(signal.reason);
      // Exit 1 is "no match"; 2 is an error such as a bad pattern.
      if (error && code !== 1) return reject(new ToolRefusal(`search failed: ${stderr.trim().split('\n')[0] || error.message}`));
      resolve(stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\.\//, '').replace(/^([^:]+:\d+):/, '$1: ')));
    });
  });
}

/** The same search without ripgrep: the files the glob matches, read one by one. */
async function walkSearch(ctx: SearchContext, root: string, pattern: string, glob: string | undefined): Promise<string[]> {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (e) {
    throw new ToolRefusal(`search failed: ${(e as Error).message}`);
  }
  const out: string[] = [];
  for (const file of await matchingFiles(ctx, [glob ?? '**'], 'glob')) {
    const text = await fsp.readFile(join(root, file), 'utf8').catch(() => '');
    if (text.includes('\u0000')) continue;
    text.split('\n').forEach((line, i) => {
      if (regex.test(line)) out.push(`${file}:${i + 1}: ${line}`);
    });
    if (out.length > SEARCH_LIMIT * 4) break;
  }
  return out;
}
