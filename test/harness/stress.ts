/**
 * `npm run test:stress`: runs the README's test command several times in a row while other
 * processes keep every core busy, because CI machines are loaded and a suite that only
 * passes on a quiet machine decides nothing. Prints each run's result and duration and
 * exits non-zero when any run failed.
 *
 *   npm run test:stress                              5 × `npm test`, one burner per core
 *   npm run test:stress -- --runs 10                 10 runs
 *   npm run test:stress -- --command "npx mocha test/unit/crash.test.ts" --runs 20
 *                                                    one file, many times, under load
 *   npm run test:stress -- --burners 0               the same runs on a quiet machine
 *
 * Each run's output goes to test-results/stress/run-<n>.log; a failed run's last lines are
 * printed too. The burners are plain busy loops at normal priority — the point is a machine
 * whose cores the tests have to share — and they exit with this process however it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { tail } from './codeServer';
import { repoRoot, testResultsDir } from './paths';

const logDir = path.join(testResultsDir, 'stress');

/**
 * Spins in slices, yielding between them so the IPC channel is read: when this harness
 * dies — even by SIGKILL — the channel closes and the burner exits instead of spinning on.
 */
const BURNER_SOURCE = `
process.on('disconnect', () => process.exit(0));
(function spin() {
  const end = Date.now() + 50;
  while (Date.now() < end) {}
  setImmediate(spin);
})();
`;

function startBurners(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', BURNER_SOURCE], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
}

/** The command's process group, so stopping a run reaches code-server, Chromium and the CLIs it started. */
let current: ChildProcess | undefined;

function killCurrentRun(): void {
  if (current?.pid === undefined || current.exitCode !== null || current.signalCode !== null) return;
  try {
    process.kill(-current.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Runs `command` in a shell from the repository root; resolves with its exit code, output in `logFile`. */
function runOnce(command: string, logFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile);
    log.write(`$ ${command}\n`);
    const child = spawn(command, { cwd: repoRoot, shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      current = undefined;
      log.end(() => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    });
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      command: { type: 'string', default: 'npm test' },
      burners: { type: 'string', default: String(os.availableParallelism()) },
    },
  });
  const runs = Number(values.runs);
  const burnerCount = Number(values.burners);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a positive whole number, not ${values.runs}`);
  if (!Number.isInteger(burnerCount) || burnerCount < 0) throw new Error(`--burners wants a whole number, not ${values.burners}`);
  await fsp.rm(logDir, { recursive: true, force: true });
  await fsp.mkdir(logDir, { recursive: true });

  const burners = startBurners(burnerCount);
  const stop = () => {
    killCurrentRun();
    for (const b of burners) b.kill('SIGKILL');
  };
  process.on('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

  console.log(`[stress] ${runs} × \`${values.command}\` with ${burnerCount} busy-loop process${burnerCount === 1 ? '' : 'es'} on ${os.availableParallelism()} core${os.availableParallelism() === 1 ? '' : 's'}; logs in ${path.relative(repoRoot, logDir)}/`);
  const results: { code: number; ms: number }[] = [];
  for (let i = 1; i <= runs; i++) {
    const logFile = path.join(logDir, `run-${i}.log`);
    const started = Date.now();
    const code = await runOnce(values.command!, logFile);
    const ms = Date.now() - started;
    results.push({ code, ms });
    console.log(`[stress] run ${i}/${runs}: ${code === 0 ? 'passed' : `FAILED (exit code ${code})`} in ${seconds(ms)}  (${path.relative(repoRoot, logFile)})`);
    if (code !== 0) console.log(tail(logFile, 60).replace(/^/gm, '    '));
  }
  stop();
  const passed = results.filter((r) => r.code === 0).length;
  const total = results.reduce((sum, r) => sum + r.ms, 0);
  console.log(`[stress] ${passed}/${runs} passed (durations ${results.map((r) => seconds(r.ms)).join(', ')}; ${seconds(total)} in all)`);
  return passed === runs ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[stress] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
