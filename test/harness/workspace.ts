/** Throwaway folders for test runs: a copy of the demo workspace plus VS Code's own dirs. */
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { demoWorkspace, repoRoot } from './paths';

const execFileAsync = promisify(execFile);

/** Folders for one test run, all under `root`. */
export interface TestDirs {
  root: string;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** Deletes everything under `root`. */
  remove(): Promise<void>;
}

/** What a run leaves in the demo folder (see .gitignore); a copy must not inherit it. */
const RUNTIME_LEFTOVERS = ['.symphony/runs', '.symphony/artifacts', '.symphony/chambers', '.symphony/audit.jsonl', 'node_modules', '.git'];

function isLeftover(source: string): boolean {
  const relative = path.relative(demoWorkspace, source).split(path.sep).join('/');
  return RUNTIME_LEFTOVERS.some((prefix) => relative === prefix || relative.startsWith(`${prefix}/`));
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  await execFileAsync('git', args, { cwd });
}

/**
 * A fresh copy of examples/demo at `<parent>/demo`, made a git repository with one commit
 * (the extension's chambers and commit triggers need a repo), without what runs left in
 * the checkout. `parent` must lie outside the repository: nothing run in the copy — a
 * template's `npm test`, git, a melody's program — may find the checkout around it.
 */
export async function copyDemo(parent: string): Promise<string> {
  const outside = path.relative(repoRoot, parent);
  if (!outside.startsWith('..') && !path.isAbsolute(outside)) {
    throw new Error(`the demo copy would be inside the repository (${parent}); set TMPDIR to a folder outside ${repoRoot}`);
  }
  const workspace = path.join(parent, 'demo');
  await fsp.cp(demoWorkspace, workspace, { recursive: true, filter: (source) => !isLeftover(source) });
  await git(workspace, 'init', '--quiet', '--initial-branch=main');
  // Local identity: CI machines have no global one, and tests may commit too.
  await git(workspace, 'config', 'user.name', 'Symphony Tests');
  await git(workspace, 'config', 'user.email', 'tests@symphony.invalid');
  await git(workspace, 'config', 'commit.gpgsign', 'false');
  await git(workspace, 'add', '--all');
  await git(workspace, 'commit', '--quiet', '--no-verify', '-m', 'Demo workspace');
  return workspace;
}

/** A folder under the OS temp dir (its real path: tests compare paths VS Code reports). */
export async function tempRoot(prefix: string): Promise<string> {
  return fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), `${prefix}-`)));
}

/** A fresh copy of the demo ({@link copyDemo}) next to empty user-data and extensions dirs. */
export async function createTestDirs(prefix: string): Promise<TestDirs> {
  const root = await tempRoot(prefix);
  const workspace = await copyDemo(root);
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  await fsp.mkdir(userDataDir);
  await fsp.mkdir(extensionsDir);
  return {
    root,
    workspace,
    userDataDir,
    extensionsDir,
    remove: () => fsp.rm(root, { recursive: true, force: true, maxRetries: 3 }),
  };
}
