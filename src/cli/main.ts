import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_KEEP } from '../core/conductor/handoffKeep';
import { SEVERITIES } from '../core/model/severity';
import type { recordDeviationCommand } from './commands/recordDeviation';
import { processEnvironment, type CliEnvironment } from './options';

// Each command's code is imported when that command runs, never before: `--version`,
// `--help` and a usage error run commander and this file only, and `validate` never runs
// the engine, git, the model providers or the metrics (esbuild wraps each `import()`d
// module to run on first use), nor loads the Node modules only they need.

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
      exit.code = await (await import('./commands/init')).initCommand(env, dir);
    });

  program
    .command('validate')
    .description('check melodies and instruments; prints file:line:col: message (exit 0 valid, 1 invalid)')
    .argument('<paths...>', 'melody files, instrument files or folders')
    .option('--json', 'print { ok, errors: [{ file, line, column, message }] }')
    .action(async (paths: string[], opts: { json?: boolean }) => {
      exit.code = await (await import('./commands/validate')).validateCommand(env, paths, opts);
    });

  const collect = (value: string, previous: string[] = []) => [...previous, value];

  program
    .command('run')
    .description('run a melody; prints progress, or the result as JSON (exit 0 success, 1 otherwise)')
    .argument('<melody>', 'the melody file')
    .option('-i, --input <name=value>', 'an input of the melody (repeatable)', collect)
    .option('--json', 'print { runId, melody, status, nodes, tokens, costUsd } at the end')
    .option('--dry-run', 'check the melody and inputs and print the plan; run nothing')
    .option('-y, --yes', 'approve every approval node without asking')
    .option('-v, --verbose', "print the nodes' output as it arrives")
    .option('--no-cache', 'run every node, even those with `cache: true` (what they produce is still stored)')
    .action(async (melody: string, opts: { input?: string[]; json?: boolean; dryRun?: boolean; yes?: boolean; verbose?: boolean; cache?: boolean }) => {
      // Before the run command's code loads, which takes a while: see runEarly.ts.
      if (!opts.dryRun) void (await import('./commands/runEarly')).startHelpersEarly(resolve(env.cwd, melody)).catch(() => undefined);
      exit.code = await (await import('./commands/run')).runCommand(env, melody, opts);
    });

  program
    .command('conduct')
    .description('plan an assignment per open task of sheetMusic.md, write the plan as a melody and run it (exit 0 when every assignment passed)')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print the plan (with --dry-run) or the report as JSON')
    .option('-y, --yes', 'run the plan without asking')
    .option('--task <n>', 'only this task (its number in sheetMusic.md, done tasks counted)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a task number (1, 2, …)');
      return n;
    })
    .option('--chambers', 'assignments that may run in parallel each work in a chamber (git worktree), merged back when all have passed')
    .option('-v, --verbose', "print the instruments' output as it arrives")
    .action(async (opts: { dryRun?: boolean; json?: boolean; yes?: boolean; task?: number; verbose?: boolean; chambers?: boolean }) => {
      exit.code = await (await import('./commands/conduct')).conductCommand(env, opts);
    });

  program
    .command('models')
    .description('check every instrument: its provider and model, and whether it can be reached now (exit 1 when one cannot)')
    .option('--json', 'print { ok, instruments: [{ instrument, nickname, kind, provider, model, reachable, detail }] }')
    .action(async (opts: { json?: boolean }) => {
      exit.code = await (await import('./commands/models')).modelsCommand(env, opts);
    });

  program
    .command('runs')
    .description('list the runs of this workspace, newest first')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      exit.code = await (await import('./commands/records')).runsCommand(env, opts);
    });

  program
    .command('resume')
    .description('continue a run whose process died, without re-running completed nodes')
    .argument('<runId>', 'the run to continue')
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'approve every approval node without asking')
    .option('-v, --verbose', "print the nodes' output as it arrives")
    .action(async (runId: string, opts: { json?: boolean; yes?: boolean; verbose?: boolean }) => {
      exit.code = await (await import('./commands/run')).resumeCommand(env, runId, opts);
    });

  program
    .command('replay')
    .description('run a stored run again from a node, taking upstream outputs from its artifacts')
    .argument('<runId>', 'the run to replay')
    .requiredOption('--from <node>', 'the first node to run again')
    .option('--json', 'print the result as JSON')
    .option('-y, --yes', 'approve every approval node without asking')
    .option('-v, --verbose', "print the nodes' output as it arrives")
    .action(async (runId: string, opts: { from: string; json?: boolean; yes?: boolean; verbose?: boolean }) => {
      exit.code = await (await import('./commands/run')).replayCommand(env, runId, opts.from, opts);
    });

  program
    .command('serve')
    .description('run melodies when their schedule, webhook or chain (on: melody) triggers fire, until Ctrl+C')
    .option('--port <port>', 'port of the webhook endpoint (0: any free port)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
      return n;
    }, 8787)
    .option('--host <host>', 'address the webhook endpoint binds to (loopback unless --allow-remote)', '127.0.0.1')
    .option('--allow-remote', 'let --host be an address other machines can reach; every webhook trigger must then have a secret')
    .option('--no-webhooks', 'do not open the webhook endpoint')
    .option('-y, --yes', 'approve every approval node without asking')
    .option('-v, --verbose', "print the nodes' output as it arrives")
    .action(async (opts: { port: number; host: string; allowRemote?: boolean; webhooks: boolean; yes?: boolean; verbose?: boolean }) => {
      exit.code = await (await import('./commands/serve')).serveCommand(env, opts);
    });

  program
    .command('gc')
    .description('remove old runs, and the node cache entries and artifacts no kept run refers to')
    .option('--keep-last <n>', 'how many of the newest runs to keep', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of runs');
      return n;
    }, 20)
    .action(async (opts: { keepLast: number }) => {
      exit.code = await (await import('./commands/records')).gcCommand(env, opts);
    });

  program
    .command('audit')
    .description('check the hash-chained audit log')
    .command('verify')
    .description('exit 1 and name the first bad record after any edit, deletion or reordering')
    .action(async () => {
      exit.code = await (await import('./commands/records')).auditVerifyCommand(env);
    });

  program
    .command('metrics')
    .description('print Prometheus metrics over the stored runs')
    .action(async () => {
      exit.code = await (await import('./commands/records')).metricsCommand(env);
    });

  const handoff = program.command('handoff').description('the handoff log (handoff.md)');
  handoff
    .command('append')
    .description('append an entry, safely even while other processes append')
    .requiredOption('--instrument <nickname>', 'who did the work')
    .option('--model <model>', 'the model that did it')
    .requiredOption('--summary <text>', 'what happened')
    .option('--file <path>', 'a file touched (repeatable)', collect)
    .action(async (opts: { instrument: string; model?: string; summary: string; file?: string[] }) => {
      exit.code = await (await import('./commands/handoff')).handoffAppendCommand(env, opts);
    });
  handoff
    .command('compact')
    .description('move entries older than the newest N to handoff.archive.md and sum them up in a digest; nothing is deleted')
    .option('--keep <n>', 'how many of the newest entries stay in handoff.md', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of entries');
      return n;
    }, DEFAULT_KEEP)
    .action(async (opts: { keep: number }) => {
      exit.code = await (await import('./commands/handoff')).handoffCompactCommand(env, opts);
    });

  program
    .command('deviations')
    .description('deviation markers in the code')
    .command('scan')
    .description('list DEVIATION_MINOR / ARCHITECTURAL_MISMATCH / FUNDAMENTAL_BREAK markers as file:line:col')
    .argument('[path]', 'folder or file to scan', '.')
    .option('--json', 'print [{ file, line, column, severity, marker, text }]')
    .action(async (path: string, opts: { json?: boolean }) => {
      exit.code = await (await import('./commands/deviationsScan')).deviationsScanCommand(env, path, opts);
    });

  const recordFields = ['expected', 'discovered', 'action', 'reasoning', 'impact'] as const;
  const record = program
    .command('record-deviation')
    .description('add a record to .symphony/DEVIATIONS.json')
    .requiredOption('--agent <name>', 'who found it (an instrument nickname or a person)')
    .requiredOption('--module <module>', 'the module it concerns')
    .addOption(new Option('--severity <severity>', 'how far it departs from the architecture').choices(SEVERITIES).makeOptionMandatory());
  for (const field of recordFields) record.requiredOption(`--${field} <text>`, `the record's ${field}`);
  record.action(async (opts: Parameters<typeof recordDeviationCommand>[1]) => {
    exit.code = await (await import('./commands/recordDeviation')).recordDeviationCommand(env, opts);
  });

  program
    .command('get-deviations')
    .description('list the recorded deviations, most severe first')
    .option('--json', 'print the records as stored')
    .action(async (opts: { json?: boolean }) => {
      exit.code = await (await import('./commands/getDeviations')).getDeviationsCommand(env, opts);
    });

  program
    .command('setup-chambers')
    .description('a git worktree per worker in .symphony/chambers/<id> on branch symphony/<id>, with .chamber/ context')
    .requiredOption('--workers <json>', 'e.g. \'[{"id":"auth-impl","module":"auth","scope":"src/auth/**"}]\'')
    .option('--clean-state', 'recreate existing chambers from the current (merged) commit, discarding their work')
    .action(async (opts: { workers: string; cleanState?: boolean }) => {
      exit.code = await (await import('./commands/setupChambers')).setupChambersCommand(env, opts);
    });

  program
    .command('merge-chambers')
    .description('merge the chambers per .symphony/MERGE_PLAN.json: preserve, adapt or purge (exit 1 on a conflict)')
    .action(async () => {
      exit.code = await (await import('./commands/mergeChambers')).mergeChambersCommand(env);
    });

  program
    .command('cleanup-task')
    .description('end the task: keep learnings, archive plans, remove task files and chambers')
    .option('--no-archive', 'delete BUSINESS_LOGIC.json and INTEGRATION_PLAN.json instead of archiving them')
    .action(async (opts: { archive: boolean }) => {
      exit.code = await (await import('./commands/cleanupTask')).cleanupTaskCommand(env, opts);
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
