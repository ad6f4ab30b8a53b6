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
  /** Whether a person is at a terminal (stdin and stdout are TTYs): live progress, prompts. */
  readonly interactive: boolean;
  /** Asks a question on the terminal and resolves with the answer line. */
  readonly ask: (question: string) => Promise<string>;
  /** Environment variables: secrets and child processes' environment come from here. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Calls `handler` on Ctrl+C or SIGTERM; returns a function that stops listening. */
  readonly onInterrupt: (handler: () => void) => () => void;
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
    // Asked only by the commands that show progress or prompt, stdout first: creating
    // process.stdin loads the modules of a stream, milliseconds of a start that never reads it.
    get interactive() {
      return Boolean(process.stdout.isTTY && process.stdin.isTTY);
    },
    ask: async (question) => {
      // Loaded here: only a prompt needs it.
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    env: process.env,
    // Ctrl+C and a polite kill both cancel the run: child processes live in their own
    // process groups, so the engine must stop them itself.
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}
