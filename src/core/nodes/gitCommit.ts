import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { GitError, simpleGit, type SimpleGit } from 'simple-git';
import { creditedNickname, errorMessage, isWorkspaceRoot, permanentError, workspacePath } from './support';
import { NodeError, type NodeContext, type NodeImplementation } from './types';

/** The trailer naming the run that made a commit, so `git log` leads back to the run record. */
export const RUN_TRAILER = 'Symphony-Run';

/**
 * Stages `with.paths` (or every change in the workspace) and commits them, crediting the
 * nickname in the subject: `[Tuba] Add the orders table`. Runs git through simple-git, so
 * the melody must allow `git` in `permissions.commands`. Output: `{ commit, branch }`;
 * `commit` is null when there was nothing to commit.
 */
export const gitCommitNode: NodeImplementation<'git-commit'> = {
  kind: 'git-commit',
  async run(input, ctx) {
    ctx.permissions.checkCommand('git');
    // simple-git runs git with the process environment minus GIT_* variables (its guard
    // against environment injection), never through a shell; the signal kills git on abort.
    const git = simpleGit({ baseDir: ctx.workspaceRoot, abort: ctx.signal });
    if (!(await gitStep('rev-parse', () => git.checkIsRepo()))) {
      throw permanentError(`${ctx.workspaceRoot} is not in a git repository (run "git init" there first)`);
    }
    // Literal pathspecs: a file named ":!x" or "*.ts" must mean that file, not git's pattern magic.
    const specs = (input.paths ? await Promise.all(input.paths.map((p) => stageablePath(ctx, p))) : ['.']).map((p) => `:(literal)${p}`);
    // An empty `paths:` means nothing to stage; without a pathspec git would take the whole repository.
    if (specs.length) await gitStep('add', () => git.raw(['add', '--all', '--', ...specs]));
    const staged = specs.length ? await gitStep('diff', () => git.raw(['diff', '--cached', '--name-only', '--', ...specs])) : '';
    const branch = await currentBranch(git);
    if (staged.trim() === '') {
      ctx.log('info', 'nothing to commit');
      return { output: { commit: null, branch } };
    }
    const nickname = creditedNickname(input.nickname, ctx);
    // With paths, `git commit` takes only those paths: whatever else the user had staged
    // by hand stays staged and out of this commit.
    await gitStep('commit', () => git.raw(['commit', '-m', commitMessage(input.message, nickname, ctx.runId), '--', ...specs]));
    const commit = (await gitStep('rev-parse', () => git.revparse(['HEAD']))).trim();
    ctx.log('info', `committed ${commit.slice(0, 7)}${branch ? ` on ${branch}` : ''}`);
    return { output: { commit, branch } };
  },
};

/**
 * The commit message: `[nickname] subject`, the body, and the run trailer. When the body
 * already ends in trailers (`Co-authored-by: …`), the run trailer joins them, because git
 * reads trailers from the last paragraph only.
 */
export function commitMessage(message: string, nickname: string, runId: string): string {
  const [first = '', ...rest] = message.trim().split('\n');
  const credit = `[${nickname}]`;
  const subject = first.trim().startsWith(credit) ? first.trim() : `${credit} ${first.trim()}`;
  const paragraphs = rest.join('\n').trim().split(/\n\s*\n/).filter((p) => p.trim() !== '');
  const trailer = `${RUN_TRAILER}: ${runId}`;
  const last = paragraphs.at(-1);
  if (last !== undefined && last.split('\n').every((line) => /^[A-Za-z0-9-]+: \S/.test(line))) paragraphs[paragraphs.length - 1] = `${last}\n${trailer}`;
  else paragraphs.push(trailer);
  return [subject, ...paragraphs].join('\n\n');
}

/**
 * A path to stage, checked to be inside the workspace. A file that still exists is checked
 * like a read. A deleted file has no real path to check, and staging its deletion changes
 * the repository's content, so it is checked like a write (which resolves its nearest
 * existing folder, so a symlinked folder cannot point the deletion outside).
 */
async function stageablePath(ctx: NodeContext, path: string): Promise<string> {
  if (isWorkspaceRoot(ctx.workspaceRoot, path)) return '.';
  const exists = await fsp.lstat(resolve(ctx.workspaceRoot, path)).then(
    () => true,
    () => false,
  );
  const abs = exists ? await ctx.permissions.resolveRead(path) : await ctx.permissions.resolveWrite(path);
  return workspacePath(ctx, abs);
}

/** The checked-out branch; null on a detached HEAD. Works on a repository with no commit yet. */
async function currentBranch(git: SimpleGit): Promise<string | null> {
  const name = await git.raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '');
  return name.trim() || null;
}

/**
 * Runs one git step and turns its failure into a NodeError naming the step. Only a held
 * index lock (another git process at work) is worth retrying; a bad path or a missing
 * identity fails the same way every time.
 */
async function gitStep<T>(step: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
    const message = errorMessage(e).trim();
    throw new NodeError(`git ${step} failed: ${message}`, { retryable: /index\.lock/.test(message), cause: e });
  }
}
