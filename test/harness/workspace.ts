/** Throwaway folders for test runs: a copy of the demo workspace plus VS Code's own dirs. */
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { demoWorkspace } from './paths';

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
 * A fresh copy of examples/demo, made a git repository with one commit (the extension's
 * chambers and commit triggers need a repo), next to empty user-data and extensions dirs.
 */
export async function createTestDirs(prefix: string): Promise<TestDirs> {
  const root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), `${prefix}-`)));
  const workspace = path.join(root, 'demo');
  await fsp.cp(demoWorkspace, workspace, { recursive: true, filter: (source) => !isLeftover(source) });
  await git(workspace, 'init', '--quiet', '--initial-branch=main');
  // Local identity: CI machines have no global one, and tests may commit too.
  await git(workspace, 'config', 'user.name', 'Symphony Tests');
  await git(workspace, 'config', 'user.email', 'tests@symphony.invalid');
  await git(workspace, 'config', 'commit.gpgsign', 'false');
  await git(workspace, 'add', '--all');
  await git(workspace, 'commit', '--quiet', '--no-verify', '-m', 'Demo workspace');
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
