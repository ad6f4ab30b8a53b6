import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The plain options the CLI's commands run with — built here from the process, as the
 * extension builds the same from its settings, so the core never sees either.
 */
export interface CliEnvironment {
  readonly cwd: string;
  /** Whether to colour output: a terminal, and NO_COLOR unset. */
  readonly color: boolean;
  /** `templates/` shipped next to the CLI bundle. */
  readonly templatesRoot: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Finds `templates/` by walking up from the running file (dist/cli.js or src/cli/*.ts). */
export function findTemplatesRoot(from: string): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, 'init'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the templates folder above ${from}; is the installation complete?`);
    dir = parent;
  }
}

export function processEnvironment(): CliEnvironment {
  return {
    cwd: process.cwd(),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    templatesRoot: findTemplatesRoot(__dirname),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  };
}
