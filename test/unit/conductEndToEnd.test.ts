import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConductReport } from '../../src/core/conductor/conduct';
import { parseHandoff } from '../../src/core/conductor/handoff';
import { parseSheet } from '../../src/core/conductor/sheet';
import { startOpenAiServer, type ScriptedServer } from './support/openAiServer';
import { conductProject, git, requireBuiltCli, symphony } from './support/conductProject';

const project = (server: ScriptedServer, extra: Record<string, string> = {}) => conductProject(server, extra);

describe('symphony conduct, end to end (a temporary git repository and a scripted model server)', function () {
  this.timeout(120_000);
  let server: ScriptedServer;
  before(async () => {
    requireBuiltCli();
    server = await startOpenAiServer({ models: ['coder-1'] });
  });
  after(() => server.close());

  it('--dry-run --json prints the plan and changes nothing', async () => {
    const root = project(server);
    const r = await symphony(root, ['conduct', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { plan: { assignments: { id: string; task: number; instrument: string; needs: string[]; parameters: { tests: boolean } }[] }; unroutable: unknown[] };
    assert.deepEqual(
      out.plan.assignments.map((a) => [a.id, a.task, a.instrument, a.needs, a.parameters.tests]),
      [
        ['t1', 1, 'core/coder', [], true],
        ['t2', 2, 'core/coder', [], true],
      ],
    );
    assert.deepEqual(out.unroutable, []);
    assert.equal(git(root, 'status', '--porcelain'), '', 'nothing changed');
    assert.equal(existsSync(join(root, '.symphony', 'plans')), false);
  });

  it('writes the files, runs the tests, appends handoff entries, commits [Nick] task and ticks the tasks', async () => {
    const root = project(server);
    server.reply(
      // t1: read, fix, answer.
      { toolCalls: [{ name: 'read_file', arguments: { path: 'src/greet.js' } }] },
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'src/greet.js', old: "'Hello ' + name", new: "'Hello, ' + name + '!'" } }] },
      { text: 'Fixed the greeting: it now reads "Hello, NAME!".\nDiscovered requirement: greetings end with an exclamation mark.' },
      // t2: write the code and its test, answer.
      {
        toolCalls: [
          { name: 'write_file', arguments: { path: 'src/bye.js', content: "exports.bye = (name) => 'Bye, ' + name + '!';\n" } },
          { name: 'write_file', arguments: { path: 'tests/bye.test.js', content: "const test = require('node:test');\nconst assert = require('node:assert');\nconst { bye } = require('../src/bye');\ntest('says bye', () => assert.equal(bye('Ada'), 'Bye, Ada!'));\n" } },
        ],
      },
      { text: 'Added bye() in src/bye.js with a test.' },
    );

    const r = await symphony(root, ['conduct', '--yes', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as ConductReport;
    assert.equal(report.status, 'success');
    assert.deepEqual(
      Object.entries(report.assignments).map(([id, a]) => [id, a.status, a.nickname, [...a.files].sort(), a.tests?.passed, a.gate?.pass]),
      [
        ['t1', 'passed', 'Viola', ['src/greet.js'], true, true],
        ['t2', 'passed', 'Viola', ['src/bye.js', 'tests/bye.test.js'], true, true],
      ],
    );
    assert.ok(report.tokens.input > 0);

    // Commits: one per task, crediting the nickname, holding only the files it touched.
    const log = git(root, 'log', '--format=%s', '-3').trim().split('\n');
    assert.deepEqual(log, ['[Viola] Add a farewell in `src/bye.js`, with tests @core/coder', '[Viola] Fix the greeting in `src/greet.js` so it says "Hello, NAME!" @core/coder', 'start']);
    assert.equal(git(root, 'show', '--name-only', '--format=', 'HEAD~1').trim(), 'src/greet.js');
    assert.equal(report.assignments.t1!.commit, git(root, 'rev-parse', 'HEAD~1').trim());
    assert.match(git(root, 'log', '-1', '--format=%B', 'HEAD~1'), /Fixed the greeting[\s\S]*Symphony-Run: /);

    // The tasks are ticked; the done one untouched.
    assert.deepEqual(parseSheet(readFileSync(join(root, 'sheetMusic.md'), 'utf8')).tasks.map((t) => t.done), [true, true, true]);
    // Handoff entries with the nickname, the files and the tokens.
    const entries = parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8'));
    assert.deepEqual(entries.map((e) => [e.nickname, e.instrument, e.files]), [
      ['Viola', 'core/coder', ['src/greet.js']],
      ['Viola', 'core/coder', ['src/bye.js', 'tests/bye.test.js']],
    ]);
    assert.ok(entries[0]!.tokens && entries[0]!.tokens.input > 0);
    assert.match(entries[0]!.summary, /Fixed the greeting/);
    // The trail: summary.txt, the mission's discoveries, the plan as a melody that validates, concerto.md.
    assert.match(readFileSync(join(root, 'ensembles/core/summary.txt'), 'utf8'), /Viola/);
    assert.deepEqual(JSON.parse(readFileSync(join(root, '.symphony/MISSION_CONTEXT.json'), 'utf8')).discovered_requirements, ['greetings end with an exclamation mark.']);
    assert.ok(existsSync(join(root, report.plan.file)));
    const v = await symphony(root, ['validate', report.plan.file, '.symphony/plan.melody.yaml']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(readFileSync(join(root, 'concerto.md'), 'utf8'), /Viola \(`core\/coder`, model openai-compatible\/coder-1\)/);
  });

  it('leaves the task open and commits nothing when the gate fails twice', async () => {
    const root = project(server, {
      'ensembles/core/critic.yaml': `nickname: Oboe\nkind: model\nmodel: { provider: openai-compatible, id: coder-1, baseUrl: "${server.url}" }\n`,
      '.symphony/conductor.yaml': 'reviewer: core/critic\n',
    });
    const no = JSON.stringify({ pass: false, reasons: ['the greeting is still rude'], unmet: ['Keep functions pure.'] });
    server.reply(
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'src/greet.js', old: "'Hello ' + name", new: "'Hello, ' + name + '!'" } }] },
      { text: 'Fixed it.' },
      { text: no },
      // The reasons go back once: the coder answers again, and the reviewer says no again.
      { text: 'I think it is fine now.' },
      { text: no },
    );
    const r = await symphony(root, ['conduct', '--yes', '--json', '--task', '1']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as ConductReport;
    const t1 = report.assignments.t1!;
    assert.equal(t1.status, 'failed');
    assert.match(t1.reason ?? '', /the production gate failed twice: .*Keep functions pure/);
    assert.equal(t1.gate?.reviewer, 'core/critic');
    assert.equal(git(root, 'log', '--format=%s').trim(), 'start', 'nothing was committed');
    assert.equal(parseSheet(readFileSync(join(root, 'sheetMusic.md'), 'utf8')).tasks[0]!.done, false, 'the task stays open');
    // The second round told the coder why.
    const retry = server.calls()[server.calls().length - 2]!.body as { messages: { content: string }[] };
    assert.match(JSON.stringify(retry.messages), /The production gate did not pass your work:[\s\S]*the greeting is still rude/);
  });
});
