import { simpleGit, type SimpleGit } from 'simple-git';

/**
 * git for the chambers, through simple-git: every command is an argument array handed to
 * `git` directly, never a shell string, so a branch or file name cannot inject anything.
 */

/** A git command that failed, with what git said. */
export class GitFailure extends Error {
  constructor(
    readonly args: readonly string[],
    message: string,
  ) {
    super(`git ${args[0] ?? ''} failed: ${message.trim() || 'no message'}`);
    this.name = 'GitFailure';
  }
}

/** One repository or worktree. */
export class Git {
  private readonly git: SimpleGit;

  constructor(readonly cwd: string) {
    this.git = simpleGit({ baseDir: cwd, trimmed: false, maxConcurrentProcesses: 1 });
  }

  /** Runs `git <args>` and resolves to its standard output; throws GitFailure. */
  async run(...args: string[]): Promise<string> {
    try {
      return await this.git.raw(args);
    } catch (e) {
      throw new GitFailure(args, (e as Error).message);
    }
  }

  /** Runs `git <args>`; resolves to its output, or undefined when git failed. */
  async attempt(...args: string[]): Promise<string | undefined> {
    try {
      return await this.git.raw(args);
    } catch {
      return undefined;
    }
  }

  /** Lines of output, without empty ones. */
  async lines(...args: string[]): Promise<string[]> {
    return (await this.run(...args)).split('\n').filter((l) => l !== '');
  }

  /** The full id of a commit-ish, or undefined when it does not exist. */
  async commitOf(ref: string): Promise<string | undefined> {
    return (await this.attempt('rev-parse', '--verify', '--quiet', `${ref}^{commit}`))?.trim() || undefined;
  }

  /** Whether tracked files differ from HEAD (staged or not); untracked files do not count. */
  async hasTrackedChanges(): Promise<boolean> {
    return (await this.run('status', '--porcelain', '--untracked-files=no')).trim() !== '';
  }

  /** Whether a merge is under way (MERGE_HEAD exists). */
  async mergeInProgress(): Promise<boolean> {
    return (await this.commitOf('MERGE_HEAD')) !== undefined;
  }
}
