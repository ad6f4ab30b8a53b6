import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tempDir } from './helpers';

const CLI = join(REPO, 'dist', 'cli.js');

/** 14 shell nodes in fan-out/fan-in layers; each appends its id to ledger.txt, then works ~40 ms. */
function crashMelody(): string {
  const layers = [['a1', 'a2', 'a3'], ['b1', 'b2'], ['c1', 'c2', 'c3', 'c4'], ['d1'], ['e1', 'e2', 'e3'], ['f1']];
  const script = "require('fs').appendFileSync('ledger.txt', process.argv[1] + '\\n'); setTimeout(() => {}, 40)";
  const lines = ['name: crashy', 'permissions:', '  commands: [node]', 'nodes:'];
  layers.forEach((layer, i) => {
    for (const id of layer) {
      lines.push(`  ${id}:`, '    uses: shell', `    with: { command: node, args: ["-e", ${JSON.stringify(script)}, ${id}] }`);
      if (i > 0) lines.push(`    needs: [${layers[i - 1]!.join(', ')}]`);
    }
  });
  return lines.join('\n') + '\n';
}

/**
 * Runs the CLI; when `killWhen` is given, polls it and kills the CLI with SIGKILL as soon as
 * it holds. Killing at a state of the run rather than after a fixed time keeps the test
 * meaning the same on a loaded machine, where the CLI may take seconds just to start.
 * Resolves to the exit code (null when killed).
 */
function cli(cwd: string, args: string[], killWhen?: () => boolean): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: 'ignore' });
    let poll: NodeJS.Timeout | undefined;
    const check = () => {
      if (killWhen!()) child.kill('SIGKILL');
      else poll = setTimeout(check, 2);
    };
    if (killWhen) check();
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(poll);
      resolve(code);
    });
  });
}

/** Complete lines in a journal (a kill may leave a torn last one); 0 while it does not exist. */
function journalLines(journal: string | undefined): number {
  if (!journal || !existsSync(journal)) return 0;
  return readFileSync(journal, 'utf8').split('\n').length - 1;
}

interface JournalEvent {
  type: string;
  nodeId?: string;
  status?: string;
}

describe('crash safety (real processes killed with SIGKILL)', function () {
  this.timeout(600_000); // 25 runs of real processes: about a minute on a loaded machine

  before(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  });

  it('resume finishes every killed run without executing a completed node twice', async () => {
    const base = tempDir('symphony-crash-');
    let seed = 20261122;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const runs = 25;
    let kills = 0;
    const ids = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'c2', 'c3', 'c4', 'd1', 'e1', 'e2', 'e3', 'f1'];
    /** run-started, a start and an end per node, run-finished. */
    const fullRunEvents = 2 + 2 * ids.length;
    for (let i = 0; i < runs; i++) {
      // A folder per run: a node program outlives the CLI killed under it (it leads its own
      // process group) and may append to its ledger late, which must not count for the next run.
      const root = join(base, `run-${i}`);
      mkdirSync(root);
      writeFileSync(join(root, 'sheetMusic.md'), '# crash test\n');
      writeFileSync(join(root, 'crash.melody.yaml'), crashMelody());
      writeFileSync(join(root, 'ledger.txt'), '');
      const runsDir = join(root, '.symphony', 'runs');
      // Killed early, the CLI may not have made its folders yet.
      const currentRun = () => (existsSync(runsDir) ? readdirSync(runsDir)[0] : undefined);
      const journalOf = (id: string | undefined) => (id ? join(runsDir, id, 'journal.jsonl') : undefined);
      // The kill lands once the run has journaled k events (k = 0: while the CLI starts).
      const k = Math.floor(random() * fullRunEvents);
      const code = await cli(root, ['run', 'crash.melody.yaml'], () => journalLines(journalOf(currentRun())) >= k);
      if (code === null) kills++;
      const runId = currentRun();
      const journal = journalOf(runId);
      // Killed before run-started was on disk: the run never began, so there is nothing to resume.
      const begun = runId && journal && existsSync(journal) && /"type":"run-started"[^\n]*\n/.test(readFileSync(journal, 'utf8'));
      if (!begun) continue;
      // Resume, sometimes killing the resume too (again after k more events), until it completes.
      for (let attempt = 0; attempt < 10; attempt++) {
        const text = readFileSync(journal, 'utf8');
        if (text.includes('"type":"run-finished"')) break;
        const last = attempt === 9 || random() < 0.6;
        const unfinished = ids.length - (text.match(/"type":"node-finished"/g) ?? []).length;
        const start = journalLines(journal);
        const more = Math.floor(random() * (2 + 2 * unfinished)); // run-resumed … run-finished
        const c = await cli(root, ['resume', runId], last ? undefined : () => journalLines(journal) >= start + more);
        if (c === null) kills++;
      }

      const events = readFileSync(journal, 'utf8')
        .split('\n')
        .filter((l) => {
          try {
            JSON.parse(l);
            return true;
          } catch {
            return false; // a torn last line from a kill
          }
        })
        .map((l) => JSON.parse(l) as JournalEvent);
      const finished = events.filter((e) => e.type === 'run-finished');
      assert.equal(finished.length, 1, `run ${runId} must end exactly once`);
      assert.equal(finished[0]!.status, 'success', `run ${runId} ended ${finished[0]!.status}: ${JSON.stringify(events.filter((e) => e.type === 'node-finished' && e.status !== 'success'))}`);

      const ledger = readFileSync(join(root, 'ledger.txt'), 'utf8').trim().split('\n');
      for (const id of ids) {
        const finishes = events.filter((e) => e.type === 'node-finished' && e.nodeId === id);
        assert.equal(finishes.length, 1, `${id} must be recorded finished exactly once in ${runId}`);
        const finishedAt = events.indexOf(finishes[0]!);
        const startsAfter = events.slice(finishedAt).filter((e) => e.type === 'node-started' && e.nodeId === id);
        assert.equal(startsAfter.length, 0, `${id} was started again after it completed (run ${runId})`);
        // Every execution is an attempt the journal knows of: only attempts killed before their
        // end was recorded may have run more than once.
        const executions = ledger.filter((l) => l === id).length;
        const starts = events.filter((e) => e.type === 'node-started' && e.nodeId === id).length;
        assert.ok(executions >= 1 && executions <= starts, `${id} executed ${executions} times for ${starts} recorded starts (run ${runId})`);
      }
    }
    console.log(`      ${runs} runs, ${kills} processes killed with SIGKILL, every run resumed to success`);
    assert.ok(kills >= runs / 2, `too few kills (${kills}) to prove anything`);
  });
});
