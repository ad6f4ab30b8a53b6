import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHandoff } from '../../src/core/conductor/handoff';
import { startOpenAiServer, type ScriptedServer } from './support/openAiServer';
import type { RecordedRequest, ScriptedReply } from './support/scriptedServer';
import { conductJson, conductProject, git, requireBuiltCli, STANDARD_SHEET, subjects, symphony, taskOf, ticked } from './support/conductProject';

/**
 * Bad input to `symphony conduct`, end to end — the built CLI in a temporary git repository
 * against a scripted model server: each case gets a clear message (at file:line:col when a
 * file is wrong), nothing the person wrote is lost or overwritten, and what can go on, goes
 * on or can be resumed.
 */

const fixGreeting = { toolCalls: [{ name: 'edit_file', arguments: { path: 'src/greet.js', old: "'Hello ' + name", new: "'Hello, ' + name + '!'" } }] };
const writeBye = {
  toolCalls: [
    { name: 'write_file', arguments: { path: 'src/bye.js', content: "exports.bye = (name) => 'Bye, ' + name + '!';\n" } },
    { name: 'write_file', arguments: { path: 'tests/bye.test.js', content: "const test = require('node:test');\nconst assert = require('node:assert');\nconst { bye } = require('../src/bye');\ntest('says bye', () => assert.equal(bye('Ada'), 'Bye, Ada!'));\n" } },
  ],
};
const FIXED = "exports.greet = (name) => 'Hello, ' + name + '!';\n";
/** The standard sheet with task 2 naming task 1's file too: the plan runs them one after the other, in sheet order. */
const IN_ORDER_SHEET = STANDARD_SHEET.replace('in `src/bye.js`, with tests', 'in `src/bye.js` (like `src/greet.js`), with tests');
const FAREWELL = '[Viola] Add a farewell in `src/bye.js` (like `src/greet.js`), with tests @core/coder';

const handoffEntries = (root: string) => parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8'));

describe('symphony conduct on bad input, end to end (a temporary git repository and a scripted model server)', function () {
  this.timeout(180_000);
  let server: ScriptedServer;
  before(async () => {
    requireBuiltCli();
    server = await startOpenAiServer({ models: ['coder-1'] });
  });
  after(() => server.close());
  afterEach(function () {
    // A failing test may leave replies for the next one: they would answer its calls.
    if (this.currentTest?.state === 'failed') while (server.pending) server.reply({ status: 500 }) && void 0;
  });

  /** A project whose conduct must stop before planning: nothing is written, no model is called. */
  async function refusedBeforePlanning(files: Record<string, string>, args: string[] = []) {
    const root = conductProject(server, files);
    const calls = server.calls().length;
    const json = await symphony(root, ['conduct', '--yes', '--json', ...args]);
    const human = await symphony(root, ['conduct', '--yes', ...args]);
    assert.equal(json.code, 1, json.stdout + json.stderr);
    assert.equal(human.code, 1, human.stdout + human.stderr);
    assert.equal(server.calls().length, calls, 'no model was called');
    assert.equal(git(root, 'status', '--porcelain', '--untracked-files=all'), '', 'nothing was written: no plan, no run, no file changed');
    for (const [path, text] of Object.entries(files)) assert.equal(readFileSync(join(root, path), 'utf8'), text, `${path} is as the person wrote it`);
    return { root, json: JSON.parse(json.stdout) as { status: string; errors: { file: string; line: number; column: number; message: string }[] }, human };
  }

  it('an empty sheetMusic.md: says so at sheetMusic.md:1:1, with an example task, and changes nothing', async () => {
    const { json, human } = await refusedBeforePlanning({ 'sheetMusic.md': '' });
    assert.equal(json.status, 'failure');
    assert.deepEqual(json.errors.map((e) => [e.file, e.line, e.column]), [['sheetMusic.md', 1, 1]]);
    assert.match(json.errors[0]!.message, /^sheetMusic\.md is empty: write the goal and the tasks as Markdown task items, e\.g\. "- \[ \] /);
    assert.match(human.stderr, /^sheetMusic\.md:1:1: sheetMusic\.md is empty/m);
    assert.match(human.stderr, /nothing was planned: fix the problem above, then run `symphony conduct` again/);
  });

  it('a malformed production.md (a comment left open over its constraints): says where, plans nothing, changes nothing', async () => {
    const production = '# Production Goals\n\n## Checklist\n\n- [ ] All tests pass\n\n<!-- draft, not ready:\n## Constraints\n\n- Never log secrets.\n';
    const { json, human } = await refusedBeforePlanning({ 'production.md': production });
    assert.deepEqual(json.errors.map((e) => [e.file, e.line, e.column]), [['production.md', 7, 1]]);
    assert.match(json.errors[0]!.message, /this HTML comment is never closed, so the 2 lines after it would be ignored — its checklist and constraints there would not be checked; close it with -->/);
    assert.match(human.stderr, /^production\.md:7:1: this HTML comment is never closed/m);
  });

  it('a production.md that is not UTF-8: says where the first bad byte is', async () => {
    const root = conductProject(server);
    writeFileSync(join(root, 'production.md'), Buffer.concat([Buffer.from('## Checklist\n\n- [ ] caf'), Buffer.from([0xe9]), Buffer.from(' au lait\n')]));
    git(root, 'commit', '-qam', 'latin-1 goals');
    const r = await symphony(root, ['conduct', '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^production\.md:3:10: production\.md is not valid UTF-8 \(byte 0xE9\); save it as UTF-8$/m);
    assert.equal(git(root, 'status', '--porcelain', '--untracked-files=all'), '');
  });

  it('an empty production.md: a warning, and the work goes on under the mechanical gate', async () => {
    const root = conductProject(server, { 'production.md': '' });
    server.reply(fixGreeting, { text: 'Fixed the greeting.' });
    const { code, stdout, stderr, report } = await conductJson(root, ['--task', '1']);
    assert.equal(code, 0, stdout + stderr);
    assert.deepEqual(report.warnings.map((w) => [w.file, w.line, w.column]), [['production.md', 1, 1]]);
    assert.match(report.warnings[0]!.message, /production\.md is empty: the production gate holds only its mechanical checks/);
    assert.equal(report.assignments.t1!.status, 'passed');
    assert.deepEqual(report.assignments.t1!.gate?.checks.map((c) => c.check), ['tests pass', 'files under scope', 'no new fundamental deviation']);
    assert.equal(readFileSync(join(root, 'production.md'), 'utf8'), '', 'production.md is left as it was');

    const dry = await symphony(root, ['conduct', '--dry-run']);
    assert.match(dry.stderr, /^production\.md:1:1: warning: production\.md is empty/m);
  });

  it('a mention of an instrument that does not exist: the task is not routed, with a suggestion; the other task runs', async () => {
    const sheet = STANDARD_SHEET.replace('with tests @core/coder', 'with tests @core/codr');
    const root = conductProject(server, { 'sheetMusic.md': sheet });
    server.reply(fixGreeting, { text: 'Fixed the greeting.' });
    const { code, report } = await conductJson(root);
    assert.equal(code, 1, 'a task could not be routed');
    assert.deepEqual(report.unroutable.map((u) => [u.task, u.reason]), [[2, 'it mentions @core/codr, and there is no such instrument; did you mean @core/coder?']]);
    assert.deepEqual(Object.keys(report.assignments), ['t1']);
    assert.equal(report.assignments.t1!.status, 'passed', JSON.stringify(report.assignments.t1));
    assert.deepEqual(ticked(root), [true, false, true]);
    assert.equal(readFileSync(join(root, 'sheetMusic.md'), 'utf8'), sheet.replace('- [ ] Fix the greeting', '- [x] Fix the greeting'), 'the sheet keeps the mistake for the person to fix');

    const human = await symphony(root, ['conduct', '--dry-run']);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /task 2 {2}Add a farewell[^\n]*\n\s+✗ not routed: it mentions @core\/codr, and there is no such instrument; did you mean @core\/coder\?/);
  });

  it('a planner that answers with invalid JSON twice: its tasks are reported unroutable, nothing is committed', async () => {
    const sheet = '# Sheet Music\n\n## Tasks\n\n- [ ] Make the greeting friendlier\n';
    const root = conductProject(server, {
      'sheetMusic.md': sheet,
      'ensembles/core/coder.yaml': `nickname: Viola\nkind: model\nmodel: { provider: openai-compatible, id: coder-1, baseUrl: "${server.url}" }\n`,
      '.symphony/conductor.yaml': 'planner: core/coder\n',
    });
    const calls = server.calls().length;
    server.reply({ text: 'Sure! The coder should do it.' }, { text: '{"assignments": [{"task": 1, "instrument": "core/coder"' });
    const { code, report } = await conductJson(root);
    assert.equal(code, 1);
    assert.equal(server.calls().length - calls, 2, 'one answer, one repair');
    assert.match(JSON.stringify(server.calls().at(-1)!.body), /That is not a valid plan: not JSON/);
    assert.equal(report.unroutable.length, 1);
    assert.match(report.unroutable[0]!.reason, /^the planner core\/coder failed: the planner core\/coder answered twice with something that is not a plan \(not JSON \(.*\)\); the tasks were not routed — mention an instrument in each task/);
    assert.deepEqual(report.assignments, {});
    assert.deepEqual(subjects(root), ['start']);
    assert.equal(readFileSync(join(root, 'sheetMusic.md'), 'utf8'), sheet);
  });

  it('a dirty tree: the person’s uncommitted edit of the task’s file survives, nothing is committed with it, and the report says why', async () => {
    const root = conductProject(server);
    const mine = "// TODO(ada): greet in French too\nexports.greet = (name) => 'Hello ' + name;\n";
    writeFileSync(join(root, 'src/greet.js'), mine);
    server.reply(fixGreeting, { text: 'Fixed the greeting.' });
    const { code, stdout, stderr, report } = await conductJson(root, ['--task', '1']);
    assert.equal(code, 0, stdout + stderr);
    const t1 = report.assignments.t1!;
    assert.equal(t1.status, 'passed');
    assert.equal(t1.commit, undefined);
    assert.equal(t1.commitNote, 'not committed: src/greet.js had uncommitted changes before the assignment began (commit or stash them, then commit this work by hand)');
    assert.equal(readFileSync(join(root, 'src/greet.js'), 'utf8'), `// TODO(ada): greet in French too\n${FIXED}`, 'the person’s line and the work, side by side');
    assert.deepEqual(subjects(root), ['start'], 'no commit mixes the person’s edit in');

    const human = await symphony(root, ['conduct', '--dry-run', '--task', '2']);
    assert.equal(human.code, 0);
  });

  it('a branch that moved while an assignment worked: no commit lands on either branch, the report says so, and resume finishes on the right one', async () => {
    const root = conductProject(server, { 'sheetMusic.md': IN_ORDER_SHEET });
    server.reply(
      fixGreeting,
      () => {
        // The person checks out another branch between the coder's two model calls.
        git(root, 'checkout', '-q', '-b', 'experiment');
        return { text: 'Fixed the greeting.' };
      },
    );
    const { code, report } = await conductJson(root);
    assert.equal(code, 1);
    const [t1, t2] = [report.assignments.t1!, report.assignments.t2!];
    assert.equal(t1.status, 'failed');
    assert.equal(t1.reason, `the branch changed from main to experiment while the assignment ran: nothing was committed and the task stays open — its changes are left in the working tree (src/greet.js); check out main again, then \`symphony resume ${report.runId}\``);
    assert.equal(t2.status, 'skipped', 'task 2 names task 1’s file: it waits for task 1, and does not start after it failed');
    assert.deepEqual(subjects(root, 'main'), ['start'], 'nothing committed on main');
    assert.deepEqual(subjects(root, 'experiment'), ['start'], 'nothing committed on the branch the person moved to');
    assert.deepEqual(ticked(root), [false, false, true]);
    assert.equal(readFileSync(join(root, 'src/greet.js'), 'utf8'), FIXED, 'the work is in the working tree');

    // Back on main, with the work carried along: resume finishes both tasks there.
    git(root, 'checkout', '-q', 'main');
    server.reply({ text: 'The greeting is already fixed.' }, writeBye, { text: 'Added bye().' });
    const resumed = await symphony(root, ['resume', report.runId, '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(subjects(root, 'main').slice(0, 2), [FAREWELL, '[Viola] Fix the greeting in `src/greet.js` so it says "Hello, NAME!" @core/coder']);
    assert.deepEqual(ticked(root), [true, true, true]);
  });

  it('a branch that moved while an assignment worked: the assignment beside it does not start there, and resume finishes both on the right one', async () => {
    // A greeting test that passes before task 1 is done too, so either task may come first.
    const root = conductProject(server, { 'tests/greet.test.js': "const test = require('node:test');\nconst assert = require('node:assert');\nconst { greet } = require('../src/greet');\ntest('greets', () => assert.match(greet('Ada'), /Ada/));\n" });
    // Tasks 1 and 2 may run side by side; the coder takes them one at a time, in either order.
    const work: Record<number, ScriptedReply> = { 1: fixGreeting, 2: writeBye };
    let first: number | undefined;
    server.reply(
      (r) => {
        first = taskOf(r);
        return work[first]!;
      },
      () => {
        // The person checks out another branch between the first assignment's two model calls.
        git(root, 'checkout', '-q', '-b', 'experiment');
        return { text: 'Done.' };
      },
    );
    const { code, report } = await conductJson(root);
    assert.equal(code, 1);
    assert.ok(first === 1 || first === 2, `the first call was for task ${first}`);
    const other = first === 1 ? 2 : 1;
    const [moved, notStarted] = [report.assignments[`t${first}`]!, report.assignments[`t${other}`]!];
    assert.equal(moved.status, 'failed');
    assert.match(moved.reason ?? '', /^the branch changed from main to experiment while the assignment ran: nothing was committed and the task stays open/);
    assert.equal(notStarted.status, 'failed');
    assert.match(notStarted.reason ?? '', new RegExp(`^task ${other} was not started: the workspace is on experiment, and this plan was made on main — check out main, then \`symphony resume ${report.runId}\` does the rest$`));
    assert.deepEqual(subjects(root, 'main'), ['start'], 'nothing committed on main');
    assert.deepEqual(subjects(root, 'experiment'), ['start'], 'nothing committed on the branch the person moved to');
    assert.deepEqual(ticked(root), [false, false, true]);

    git(root, 'checkout', '-q', 'main');
    const answers: Record<number, ScriptedReply[]> = { [first]: [{ text: 'That is done already.' }], [other]: [work[other]!, { text: 'Done.' }] };
    const byTask = (r: RecordedRequest): ScriptedReply => answers[taskOf(r)]!.shift() ?? { status: 500, error: { message: `no answer left for task ${taskOf(r)}` } };
    server.reply(byTask, byTask, byTask);
    const resumed = await symphony(root, ['resume', report.runId, '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(subjects(root, 'main').slice(0, 2).sort(), ['[Viola] Add a farewell in `src/bye.js`, with tests @core/coder', '[Viola] Fix the greeting in `src/greet.js` so it says "Hello, NAME!" @core/coder']);
    assert.equal(subjects(root, 'main').length, 3, 'one commit per task');
    assert.deepEqual(subjects(root, 'experiment'), ['start']);
    assert.deepEqual(ticked(root), [true, true, true]);
    assert.equal(git(root, 'status', '--porcelain', '--', 'src', 'tests'), '', 'the work of both tasks is committed');
  });

  it('a branch that moved under an assignment that changed nothing: its task is not ticked on the other branch', async () => {
    const root = conductProject(server, { 'tests/greet.test.js': "const test = require('node:test');\nconst assert = require('node:assert');\nconst { greet } = require('../src/greet');\ntest('greets', () => assert.match(greet('Ada'), /Ada/));\n" });
    server.reply(() => {
      git(root, 'checkout', '-q', '-b', 'experiment');
      return { text: 'Nothing needs changing.' };
    });
    const { code, report } = await conductJson(root, ['--task', '1']);
    assert.equal(code, 1);
    assert.equal(report.assignments.t1!.status, 'failed');
    assert.match(report.assignments.t1!.reason ?? '', /^the branch changed from main to experiment while the assignment ran: nothing was committed and the task stays open — its changes are left in the working tree \(no files\)/);
    assert.deepEqual(ticked(root), [false, false, true], 'not ticked in the sheet of the branch the person moved to');
    assert.deepEqual(subjects(root, 'experiment'), ['start']);
  });

  it('a budget exhausted mid-plan: the first assignment finishes, the second stops with "budget exceeded", and resume after raising the budget does only the rest', async () => {
    const root = conductProject(server, { 'sheetMusic.md': IN_ORDER_SHEET, '.symphony/conductor.yaml': 'budget: { tokens: 100000 }\n' });
    // The first assignment spends nearly all of it (as the server reports), and stays within it.
    server.reply({ ...fixGreeting, usage: { input: 10, output: 10 } }, { text: 'Fixed the greeting.', usage: { input: 99960, output: 10 } });
    const calls = server.calls().length;
    const first = await conductJson(root);
    assert.equal(first.code, 1, first.stdout + first.stderr);
    const { report } = first;
    assert.equal(report.assignments.t1!.status, 'passed');
    assert.equal(report.assignments.t2!.status, 'failed');
    assert.match(report.assignments.t2!.reason ?? '', new RegExp(`^task 2 \\(.*\\): budget exceeded: this call to core/coder would send about \\d+ tokens and only 10 are left of budget\\.tokens; it was not sent — raise \`budget:\` in \\.symphony/conductor\\.yaml, then \`symphony resume ${report.runId}\`$`));
    assert.equal(server.calls().length - calls, 2, 't2’s call was never sent');
    assert.equal(handoffEntries(root).length, 1, 'a turn that never started leaves no handoff entry');

    // Resumed as it is, the budget still does not allow it: said at once, nothing runs.
    const same = await symphony(root, ['resume', report.runId]);
    assert.equal(same.code, 1);
    assert.match(same.stderr, new RegExp(`budget exceeded: conduct run ${report.runId} \\(with the runs it continued\\) spent 99990 tokens of budget\\.tokens 100000, and the 10 left did not pay for its next call — raise \`budget:\` in \\.symphony/conductor\\.yaml, then \`symphony resume ${report.runId}\` again`));

    writeFileSync(join(root, '.symphony/conductor.yaml'), 'budget: { tokens: 200000 }\n');
    server.reply(writeBye, { text: 'Added bye().' });
    const before = server.calls().length;
    const resumed = await symphony(root, ['resume', report.runId, '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const again = JSON.parse(resumed.stdout) as typeof report;
    assert.equal(again.continues, report.runId);
    assert.deepEqual(again.carried, ['t1']);
    assert.deepEqual(Object.entries(again.assignments).map(([id, a]) => [id, a.status]), [['t1', 'passed'], ['t2', 'passed']]);
    assert.equal(server.calls().length - before, 2, 'only t2 called the model');
    // No duplicate: one handoff entry and one commit per task.
    assert.deepEqual(handoffEntries(root).map((e) => e.files), [['src/greet.js'], ['src/bye.js', 'tests/bye.test.js']]);
    assert.deepEqual(subjects(root), [FAREWELL, '[Viola] Fix the greeting in `src/greet.js` so it says "Hello, NAME!" @core/coder', 'start']);
    assert.deepEqual(ticked(root), [true, true, true]);
    assert.ok(existsSync(join(root, again.plan.file)), 'the continuation has a plan of its own');
    // The continuation's plan carries the budget that is left.
    assert.match(readFileSync(join(root, again.plan.file), 'utf8'), /budget:\s*\n?\s*tokens: 100010/);
  });
});
