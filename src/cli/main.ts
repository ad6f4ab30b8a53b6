import { Command, CommanderError } from 'commander';
import { initCommand } from './commands/init';
import { validateCommand } from './commands/validate';
import { processEnvironment, type CliEnvironment } from './options';

/** Exit codes: 0 success, 1 the checked thing is invalid or failed, 2 the command line is wrong. */
export const EXIT_USAGE = 2;

declare const SYMPHONY_VERSION: string | undefined;

/** Builds the `symphony` command. Each action stores its exit code in `exit.code`. */
export function buildProgram(env: CliEnvironment, exit: { code: number }): Command {
  const program = new Command('symphony')
    .description('Run and check Symphony melodies headless — the same engine as the VS Code extension.')
    .version(typeof SYMPHONY_VERSION === 'string' ? SYMPHONY_VERSION : '0.0.0-dev')
    .showHelpAfterError('(run `symphony --help` for usage)')
    .configureOutput({ writeOut: env.stdout, writeErr: env.stderr })
    .exitOverride();

  program
    .command('init')
    .description('create sheetMusic.md, handoff.md, production.md, a starter ensemble and melody (never overwrites)')
    .argument('[dir]', 'workspace folder', '.')
    .action(async (dir: string) => {
      exit.code = await initCommand(env, dir);
    });

  program
    .command('validate')
    .description('check melodies and instruments; prints file:line:col: message (exit 0 valid, 1 invalid)')
    .argument('<paths...>', 'melody files, instrument files or folders')
    .option('--json', 'print { ok, errors: [{ file, line, column, message }] }')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      exit.code = await validateCommand(env, paths, opts);
    });

  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], env: CliEnvironment = processEnvironment()): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(env, exit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with code 0; anything else is a usage error.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    env.stderr(`symphony: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`symphony: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
