import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConductReport } from '../../../src/core/conductor/conduct';
import { parseSheet } from '../../../src/core/conductor/sheet';
import { REPO, tempDir } from '../helpers';
import type { ScriptedServer } from './openAiServer';
import type { RecordedRequest } from './scriptedServer';

/**
 * What the end-to-end tests of `symphony conduct` share: the built CLI run as a child
 * process (argument arrays, a minimal environment), git in the test's repository, and a
 * small project in a temporary git repository whose instruments call scripted model servers.
 */

export const CLI = join(REPO, 'dist', 'cli.js');

/** Fails the suite early, with what to do, when the CLI was not built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
}

/** The result of one `symphony` command. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `symphony` CLI in `cwd`. */
export function symphony(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** `symphony conduct --yes --json …` and its report; fails with the output when the report is not JSON. */
export async function conductJson(cwd: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<CliResult & { report: ConductReport }> {
  const r = await symphony(cwd, ['conduct', '--yes', '--json', ...args], env);
  let report: ConductReport;
  try {
    report = JSON.parse(r.stdout) as ConductReport;
  } catch {
    throw new Error(`conduct printed no JSON report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report };
}

/** Runs git in `cwd`; its output, untrimmed. */
export const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' });

/** The subjects of the current branch's commits, newest first. */
export const subjects = (cwd: string, ref = 'HEAD'): string[] => git(cwd, 'log', '--format=%s', ref).trim().split('\n');

/** The task an assignment's model call works on (assignments that may run side by side take turns in either order). */
export const taskOf = (r: RecordedRequest): number => Number(/Task (\d+) of sheetMusic\.md/.exec(JSON.stringify(r.body))?.[1]);

/** Which tasks of sheetMusic.md are ticked, in order. */
export const ticked = (root: string): boolean[] => parseSheet(readFileSync(join(root, 'sheetMusic.md'), 'utf8')).tasks.map((t) => t.done);

/** A model instrument on a scripted server. */
export function modelInstrument(server: ScriptedServer, nickname: string, extra = ''): string {
  return `nickname: ${nickname}\nkind: model\nrole: Writes and fixes code.\nhandles: ["src/**"]\nmodel: { provider: openai-compatible, id: coder-1, baseUrl: "${server.url}" }\n${extra}`;
}

/** The sheet of the standard project: a goal, two open tasks for core/coder and a done one. */
export const STANDARD_SHEET = [
  '# Sheet Music',
  '',
  '## Goal',
  '',
  'Friendly greetings.',
  '',
  '## Tasks',
  '',
  '- [ ] Fix the greeting in `src/greet.js` so it says "Hello, NAME!" @core/coder',
  '- [ ] Add a farewell in `src/bye.js`, with tests @core/coder',
  '- [x] Set up the project',
  '',
].join('\n');

/**
 * A git repository (branch main, one commit) with a small project: the standard sheet,
 * production.md with a test command, a greeting whose test fails until task 1 is done, and
 * core/coder (Viola) at `server`. `files` adds or replaces files; `null` leaves one out.
 */
export function conductProject(server: ScriptedServer, files: Record<string, string | null> = {}): string {
  const root = tempDir('symphony-conduct-');
  const all: Record<string, string | null> = {
    'sheetMusic.md': STANDARD_SHEET,
    'production.md': '# Production Goals\n\n## Checklist\n\n- [ ] All tests pass\n\nTest command: `node --test tests/`\n\n## Constraints\n\n- Keep functions pure.\n',
    'handoff.md': '# Handoff Log\n\n---\n',
    'src/greet.js': "exports.greet = (name) => 'Hello ' + name;\n",
    'tests/greet.test.js': "const test = require('node:test');\nconst assert = require('node:assert');\nconst { greet } = require('../src/greet');\ntest('greets', () => assert.equal(greet('Ada'), 'Hello, Ada!'));\n",
    'ensembles/core/ensemble.yaml': 'name: Core\n',
    'ensembles/core/coder.yaml': modelInstrument(server, 'Viola'),
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    if (text === null) continue;
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'config', 'user.name', 'Test');
  git(root, 'config', 'user.email', 'test@example.com');
  git(root, 'config', 'commit.gpgsign', 'false');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'start');
  return root;
}
