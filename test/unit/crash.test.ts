import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Runs the CLI; kills it with SIGKILL after `killAfterMs` when given. Resolves to the exit code (null when killed). */
function cli(cwd: string, args: string[], killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: 'ignore' });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

interface JournalEvent {
  type: string;
  nodeId?: string;
  status?: string;
}

describe('crash safety (real processes killed with SIGKILL)', function () {
  this.timeout(240_000);

  before(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  });

  it('resume finishes every killed run without executing a completed node twice', async () => {
    const root = tempDir('symphony-crash-');
    writeFileSync(join(root, 'sheetMusic.md'), '# crash test\n');
    writeFileSync(join(root, 'crash.melody.yaml'), crashMelody());
    let seed = 20261122;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const runs = 25;
    let kills = 0;
    for (let i = 0; i < runs; i++) {
      writeFileSync(join(root, 'ledger.txt'), '');
      const before = new Set(existsSync(join(root, '.symphony', 'runs')) ? readdirSync(join(root, '.symphony', 'runs')) : []);
      const code = await cli(root, ['run', 'crash.melody.yaml'], Math.floor(random() * 700));
      if (code === null) kills++;
      // Killed before it created its first run (a slow start on a loaded machine): no folder yet.
      const runId = (existsSync(join(root, '.symphony', 'runs')) ? readdirSync(join(root, '.symphony', 'runs')) : []).find((r) => !before.has(r));
      const journal = runId ? join(root, '.symphony', 'runs', runId, 'journal.jsonl') : '';
      // Killed before run-started was on disk: the run never began, so there is nothing to resume.
      const begun = runId && existsSync(journal) && /"type":"run-started"[^\n]*\n/.test(readFileSync(journal, 'utf8'));
      if (!begun) continue;
      // Resume, sometimes killing the resume too, until it completes.
      for (let attempt = 0; attempt < 10; attempt++) {
        if (readFileSync(journal, 'utf8').includes('"type":"run-finished"')) break;
        const last = attempt === 9 || random() < 0.6;
        const c = await cli(root, ['resume', runId], last ? undefined : Math.floor(random() * 500));
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
      assert.equal(finished[0]!.status, 'success', `run ${runId} ended ${finished[0]!.status}`);

      const ledger = readFileSync(join(root, 'ledger.txt'), 'utf8').trim().split('\n');
      const ids = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'c2', 'c3', 'c4', 'd1', 'e1', 'e2', 'e3', 'f1'];
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
