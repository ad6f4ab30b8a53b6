import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConductReport } from '../../src/core/conductor/conduct';
import { parseHandoff } from '../../src/core/conductor/handoff';
import { REPO, tempDir } from './helpers';
import { writeTinyGguf } from './support/gguf';

const CLI = join(REPO, 'dist', 'cli.js');

/**
 * A whole conduct on a real, unhelpful model: the tests' tiny GGUF with random weights, run
 * by llama.cpp. Its answers are nonsense — bad tool arguments, no JSON, early stops — and
 * the point is that every step survives them and ends with a clear reason.
 */
describe('symphony conduct on the local provider with a tiny random GGUF', function () {
  this.timeout(300_000);

  it('plans, works, checks and reports every assignment without a crash, whatever the model says', async () => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
    const root = tempDir('symphony-conduct-local-');
    const write = (path: string, text: string) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    writeTinyGguf(join(root, 'models', 'tiny.gguf'));
    write('sheetMusic.md', '## Goal\n\nA friendlier greeting.\n\n## Tasks\n\n- [ ] Fix the greeting in `src/greet.js` @core/tiny\n- [ ] Make the project nicer\n');
    write('production.md', '## Checklist\n\n- [ ] All tests pass\n\nTest command: `node --test tests/`\n');
    write('src/greet.js', "exports.greet = (name) => 'Hello ' + name;\n");
    write('tests/greet.test.js', "require('node:test')('runs', () => {});\n");
    write('ensembles/core/tiny.yaml', 'nickname: Piccolo\nkind: model\nrole: Tries its best.\nhandles: ["src/**"]\nmodel: { provider: local, path: models/tiny.gguf, maxTokens: 48, contextWindow: 4096 }\n');
    // The tiny model also plans (the second task mentions nobody) and reviews.
    write('.symphony/conductor.yaml', 'planner: core/tiny\nreviewer: core/tiny\nmaxSteps: 2\ntools: [read, edit]\n');
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
    execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'start'], { cwd: root });

    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'conduct', '--yes', '--json'], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SYMPHONY_LLAMA_THREADS: '1', NODE_LLAMA_CPP_GPU: 'false', NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' } }, (error, stdout, stderr) =>
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
      );
    });
    assert.ok([0, 1].includes(r.code), `conduct crashed (exit ${r.code}):\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|TypeError|ReferenceError/);
    const report = JSON.parse(r.stdout) as ConductReport;
    console.log(`      ${Object.entries(report.assignments).map(([id, a]) => `${id}: ${a.status}${a.reason ? ` (${a.reason.slice(0, 120)})` : ''}`).join('; ')}${report.unroutable.length ? `; unroutable: ${report.unroutable.map((u) => `${u.task} (${u.reason.slice(0, 80)})`).join('; ')}` : ''}`);
    assert.ok(report.runId, 'the plan ran');
    // Task 1 was routed by its mention; task 2 went to the planner, whose nonsense either
    // routed it to the one instrument there is or left it unroutable with a reason.
    assert.ok(report.assignments.t1, 'task 1 has an assignment');
    const task2 = report.assignments.t2 ?? report.unroutable.find((u) => u.task === 2);
    assert.ok(task2, 'task 2 is either assigned or reported unroutable');
    if ('reason' in task2 && !('status' in task2)) assert.match(task2.reason, /planner core\/tiny/);
    for (const [id, a] of Object.entries(report.assignments)) {
      assert.ok(['passed', 'failed'].includes(a.status), `${id} ended ${a.status}`);
      if (a.status === 'failed') assert.ok(a.reason && a.reason.length > 10, `${id} failed without a reason a person can act on`);
      assert.ok(a.tokens.input > 0, `${id} counted its tokens`);
    }
    // The trail exists whatever happened.
    const entries = parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8'));
    assert.ok(entries.length >= 1 && entries.every((e) => e.nickname === 'Piccolo'));
    assert.ok(existsSync(join(root, report.plan.file)));
  });
});
