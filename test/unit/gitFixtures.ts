import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './helpers';

/** Real git repositories for the chamber and CLI tests. */

/** Runs git in `cwd` and returns its output, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** Writes files given as `{ 'a/b.ts': text }` under `root`. */
export function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

/** Commits everything in a worktree. */
export function commitAll(cwd: string, message: string): void {
  git(cwd, 'add', '--all');
  git(cwd, 'commit', '--quiet', '-m', message);
}

/** A real repository holding a small Symphony workspace, with one commit. */
export function workspaceRepo(files: Record<string, string> = {}): string {
  const root = tempDir('symphony-chambers-');
  git(root, 'init', '--quiet', '--initial-branch=main');
  git(root, 'config', 'user.name', 'Symphony Tests');
  git(root, 'config', 'user.email', 'tests@symphony.invalid');
  git(root, 'config', 'commit.gpgsign', 'false');
  write(root, {
    'sheetMusic.md': '# Sheet\n',
    '.symphony/MISSION_CONTEXT.json': JSON.stringify({ original_request: 'Add sign-in', current_understanding: 'Email and password first', discovered_requirements: ['rate limiting'] }),
    '.symphony/DEVIATIONS.json': JSON.stringify({ version: 1, deviations: [] }, null, 2) + '\n',
    'src/auth/login.ts': 'export const login = 1;\n',
    'src/ui/form.ts': 'export const form = 1;\n',
    'src/db/schema.ts': 'export const schema = 1;\n',
    ...files,
  });
  commitAll(root, 'Initial');
  return root;
}
