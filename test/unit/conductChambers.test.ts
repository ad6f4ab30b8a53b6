import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHandoff } from '../../src/core/conductor/handoff';
import { startOpenAiServer, type ScriptedServer } from './support/openAiServer';
import type { ScriptedReply } from './support/scriptedServer';
import { conductJson, conductProject, git, modelInstrument, requireBuiltCli, subjects, symphony, taskOf, ticked } from './support/conductProject';

/**
 * `symphony conduct --chambers`: tasks that name different files work in chambers of their
 * own (git worktrees on their own branches), commit there, and are merged back once all
 * have passed; a conflict stops the merge cleanly and leaves the chamber for the person.
 * The real CLI, a real git repository, and two scripted model servers — one per
 * instrument, so both assignments really run at the same time.
 */

const SHEET = [
  '# Sheet Music',
  '',
  '## Tasks',
  '',
  '- [ ] Make the greeting in `src/greet.js` say "Hello, NAME!" @core/coder',
  '- [ ] Add a farewell in `src/bye.js` @core/writer',
  '',
].join('\n');

const NAMES = "// Names the project greets.\nexports.names = ['Ada'];\n";

/** The project's files: the sheet, tests that pass at the start. */
const chamberFiles = (): Record<string, string> => ({
  'sheetMusic.md': SHEET,
  'production.md': '# Production Goals\n\n## Checklist\n\n- [ ] All tests pass\n\nTest command: `node --test tests/`\n',
  'src/names.js': NAMES,
  'tests/greet.test.js': "const test = require('node:test');\nconst assert = require('node:assert');\nconst { greet } = require('../src/greet');\ntest('greets', () => assert.match(greet('Ada'), /Ada/));\n",
});

/** Two instruments, each on its own server; the tests pass at the start. */
function chamberProject(coder: ScriptedServer, writer: ScriptedServer): string {
  return conductProject(coder, { ...chamberFiles(), 'ensembles/core/writer.yaml': modelInstrument(writer, 'Oboe') });
}

const fixGreeting = { toolCalls: [{ name: 'edit_file', arguments: { path: 'src/greet.js', old: "'Hello ' + name", new: "'Hello, ' + name + '!'" } }] };
const writeBye = { toolCalls: [{ name: 'write_file', arguments: { path: 'src/bye.js', content: "exports.bye = (name) => 'Bye, ' + name + '!';\n" } }] };
/** An edit of the same line of src/names.js, each chamber its own way. */
const addName = (name: string) => ({ toolCalls: [{ name: 'edit_file', arguments: { path: 'src/names.js', old: "['Ada']", new: `['Ada', '${name}']` } }] });

/** What a person sees in the main worktree: no merge under way, no conflicted file, no conflict markers. */
function assertNoHalfMerge(root: string): void {
  assert.equal(existsSync(join(git(root, 'rev-parse', '--absolute-git-dir').trim(), 'MERGE_HEAD')), false, 'no merge is under way');
  assert.equal(git(root, 'diff', '--name-only', '--diff-filter=U'), '', 'no conflicted files');
  assert.equal(git(root, 'status', '--porcelain', '--untracked-files=no'), '', 'no tracked file is changed');
  for (const f of git(root, 'ls-files').trim().split('\n')) assert.doesNotMatch(readFileSync(join(root, f), 'utf8'), /^(<{7}|>{7}|={7})( |$)/m, `${f} has conflict markers`);
}

const worktrees = (root: string) =>
  git(root, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
const chamberBranches = (root: string) => git(root, 'branch', '--list', 'symphony/*', '--format=%(refname:short)').trim().split('\n').filter(Boolean);

describe('symphony conduct --chambers, end to end (a real git repository and scripted model servers)', function () {
  this.timeout(180_000);
  let coder: ScriptedServer;
  let writer: ScriptedServer;
  before(async () => {
    requireBuiltCli();
    coder = await startOpenAiServer({ models: ['coder-1'] });
    writer = await startOpenAiServer({ models: ['coder-1'] });
  });
  after(async () => {
    await coder.close();
    await writer.close();
  });

  it('works each task in its own chamber, commits there, merges both back, ticks the tasks and purges the chambers', async () => {
    const root = chamberProject(coder, writer);
    const seen: string[] = [];
    coder.reply(
      (req) => {
        // While the coder works, its chamber exists and the main tree is untouched.
        seen.push(...worktrees(root));
        return fixGreeting;
      },
      { text: 'Fixed the greeting.' },
    );
    writer.reply(writeBye, { text: 'Added bye().' });

    const { code, stdout, stderr, report } = await conductJson(root, ['--chambers']);
    assert.equal(code, 0, stdout + stderr);
    assert.deepEqual(
      Object.entries(report.assignments).map(([id, a]) => [id, a.status, a.nickname, a.files]),
      [
        ['t1', 'passed', 'Viola', ['src/greet.js']],
        ['t2', 'passed', 'Oboe', ['src/bye.js']],
      ],
    );
    assert.equal(report.merge?.status, 'merged', JSON.stringify(report.merge));
    assert.equal(report.merge?.commits?.length, 2);

    // Each assignment committed in its chamber, on its branch; both are merged into main.
    const chamberOf = (id: string) => seen.find((w) => w.endsWith(`-${id}`));
    assert.ok(chamberOf('t1')?.includes('/.symphony/chambers/conduct-'), `a chamber of t1 among ${seen.join(', ')}`);
    assert.equal(git(root, 'symbolic-ref', '--short', 'HEAD').trim(), 'main');
    const log = subjects(root);
    assert.ok(log.includes('[Viola] Make the greeting in `src/greet.js` say "Hello, NAME!" @core/coder'), log.join('\n'));
    assert.ok(log.includes('[Oboe] Add a farewell in `src/bye.js` @core/writer'), log.join('\n'));
    assert.equal(log.filter((s) => s.startsWith('Merge chamber conduct-')).length, 2, log.join('\n'));
    assert.equal(readFileSync(join(root, 'src/greet.js'), 'utf8'), "exports.greet = (name) => 'Hello, ' + name + '!';\n");
    assert.equal(readFileSync(join(root, 'src/bye.js'), 'utf8'), "exports.bye = (name) => 'Bye, ' + name + '!';\n");
    assert.equal(report.assignments.t1!.commit && git(root, 'merge-base', '--is-ancestor', report.assignments.t1!.commit, 'HEAD'), '', 't1’s commit is in main');

    // Ticked after the merge; the trail is in the history; nothing is left to commit.
    assert.deepEqual(ticked(root), [true, true]);
    assert.deepEqual(parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8')).map((e) => e.nickname).sort(), ['Oboe', 'Viola']);
    assertNoHalfMerge(root);

    // The chambers are purged: no worktree but the main one, no chamber branch.
    assert.deepEqual(worktrees(root), [git(root, 'rev-parse', '--show-toplevel').trim()]);
    assert.deepEqual(chamberBranches(root), []);
    assert.equal(existsSync(join(root, '.symphony/chambers', `conduct-${report.runId.slice(-6)}-t1`)), false);
  });

  it('stops the merge cleanly when two chambers change the same lines, names the chamber and files, and keeps that chamber', async () => {
    const root = chamberProject(coder, writer);
    coder.reply(addName('Grace'), fixGreeting, { text: 'Fixed the greeting; Grace is greeted too.' });
    writer.reply(addName('Linus'), writeBye, { text: 'Added bye(); Linus is greeted too.' });

    const { code, stdout, stderr, report } = await conductJson(root, ['--chambers']);
    assert.equal(code, 1, stdout + stderr);
    assert.equal(report.assignments.t1!.status, 'passed');
    assert.equal(report.assignments.t2!.status, 'passed');
    assert.equal(report.merge?.status, 'failed');
    const t2Chamber = `conduct-${report.runId.slice(-6)}-t2`;
    assert.match(report.merge?.reason ?? '', new RegExp(`merging stopped cleanly on a conflict: ${t2Chamber} \\(src/names\\.js\\)`));
    assert.match(report.merge?.reason ?? '', new RegExp(`resolve it there \\(merge main into its branch and commit\\), then \`symphony resume ${report.runId}\` merges it and ticks its task`));

    // t1 is merged and ticked; t2's work is not in main, and its task stays open.
    assert.equal(readFileSync(join(root, 'src/names.js'), 'utf8'), NAMES.replace("['Ada']", "['Ada', 'Grace']"));
    assert.equal(existsSync(join(root, 'src/bye.js')), false, 'nothing of the conflicting chamber was merged');
    assert.deepEqual(ticked(root), [true, false]);
    assertNoHalfMerge(root);

    // The merged chamber is purged; the conflicting one is kept, with its commit, for the person.
    assert.deepEqual(chamberBranches(root), [`symphony/${t2Chamber}`]);
    const kept = join(root, '.symphony/chambers', t2Chamber);
    assert.equal(readFileSync(join(kept, 'src/bye.js'), 'utf8'), "exports.bye = (name) => 'Bye, ' + name + '!';\n");
    assert.equal(subjects(kept)[0], '[Oboe] Add a farewell in `src/bye.js` @core/writer');
    assert.equal(git(kept, 'status', '--porcelain'), '', 'the chamber holds its work committed');

    // The person resolves the conflict in the chamber as the report says; resume merges it
    // and ticks its task, without running either assignment again.
    assert.throws(() => git(kept, 'merge', '-q', 'main'));
    assert.equal(git(kept, 'diff', '--name-only', '--diff-filter=U').trim(), 'src/names.js');
    writeFileSync(join(kept, 'src/names.js'), NAMES.replace("['Ada']", "['Ada', 'Grace', 'Linus']"));
    git(kept, 'add', 'src/names.js');
    git(kept, 'commit', '-q', '--no-edit');
    const calls = coder.calls().length + writer.calls().length;
    const resumed = await symphony(root, ['resume', report.runId, '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const again = JSON.parse(resumed.stdout) as typeof report;
    assert.equal(again.merge?.status, 'merged', JSON.stringify(again.merge));
    assert.deepEqual(again.carried, ['t1', 't2']);
    assert.equal(coder.calls().length + writer.calls().length, calls, 'no model was called again');
    assert.equal(readFileSync(join(root, 'src/names.js'), 'utf8'), NAMES.replace("['Ada']", "['Ada', 'Grace', 'Linus']"));
    assert.equal(readFileSync(join(root, 'src/bye.js'), 'utf8'), "exports.bye = (name) => 'Bye, ' + name + '!';\n");
    assert.deepEqual(ticked(root), [true, true]);
    assert.deepEqual(chamberBranches(root), [], 'the merged chamber is purged');
    assert.equal(parseHandoff(readFileSync(join(root, 'handoff.md'), 'utf8')).length, 2, 'no second handoff entry');
    assertNoHalfMerge(root);
  });

  it('does not merge into another branch the person checked out meanwhile; resume merges into the plan’s branch', async () => {
    // Both tasks to the coder: its assignments take turns, and the person moves during the last one.
    const root = conductProject(coder, { ...chamberFiles(), 'sheetMusic.md': SHEET.replace('@core/writer', '@core/coder') });
    const work: Record<number, ScriptedReply> = { 1: fixGreeting, 2: writeBye };
    coder.reply(
      (r) => work[taskOf(r)]!,
      { text: 'Done.' },
      (r) => work[taskOf(r)]!,
      () => {
        git(root, 'checkout', '-q', '-b', 'experiment');
        return { text: 'Done.' };
      },
    );
    const { code, stdout, stderr, report } = await conductJson(root, ['--chambers']);
    assert.equal(code, 1, stdout + stderr);
    assert.deepEqual(Object.values(report.assignments).map((a) => a.status), ['passed', 'passed'], 'each committed in its chamber, on its own branch');
    assert.equal(report.merge?.status, 'failed');
    assert.equal(report.merge?.reason, `the chambers were not merged: the workspace is on experiment, and this plan was made on main — check out main, then \`symphony resume ${report.runId}\` merges them (they are kept as they are)`);
    assert.deepEqual(subjects(root, 'experiment'), ['start'], 'nothing merged into the branch the person moved to');
    assert.deepEqual(subjects(root, 'main'), ['start']);
    assert.deepEqual(ticked(root), [false, false]);
    assert.equal(chamberBranches(root).length, 2, 'both chambers are kept');

    git(root, 'checkout', '-q', 'main');
    const calls = coder.calls().length;
    const resumed = await symphony(root, ['resume', report.runId, '--json']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    const again = JSON.parse(resumed.stdout) as typeof report;
    assert.equal(again.merge?.status, 'merged', JSON.stringify(again.merge));
    assert.equal(coder.calls().length, calls, 'no model was called again');
    assert.equal(readFileSync(join(root, 'src/greet.js'), 'utf8'), "exports.greet = (name) => 'Hello, ' + name + '!';\n");
    assert.equal(readFileSync(join(root, 'src/bye.js'), 'utf8'), "exports.bye = (name) => 'Bye, ' + name + '!';\n");
    assert.deepEqual(ticked(root), [true, true]);
    assert.deepEqual(chamberBranches(root), []);
    assert.deepEqual(subjects(root, 'experiment'), ['start']);
    assertNoHalfMerge(root);
  });

  it('stops the merge cleanly when main moved under a chamber, and says which chamber and files', async () => {
    const root = chamberProject(coder, writer);
    coder.reply(
      (req) => {
        // The person commits to main while the coder works: the same line its chamber will change.
        writeFileSync(join(root, 'src/greet.js'), "exports.greet = (name) => 'Hi ' + name;\n");
        git(root, 'commit', '-q', '-am', 'A greeting of my own');
        return fixGreeting;
      },
      { text: 'Fixed the greeting.' },
    );
    writer.reply(writeBye, { text: 'Added bye().' });

    const { code, stdout, stderr, report } = await conductJson(root, ['--chambers']);
    assert.equal(code, 1, stdout + stderr);
    // The chamber was made before the person's commit, so the coder's edit applied there.
    assert.equal(report.assignments.t1!.status, 'passed', JSON.stringify(report.assignments.t1));
    const t1Chamber = `conduct-${report.runId.slice(-6)}-t1`;
    assert.match(report.merge?.reason ?? '', new RegExp(`${t1Chamber} \\(src/greet\\.js\\)`));
    assert.equal(readFileSync(join(root, 'src/greet.js'), 'utf8'), "exports.greet = (name) => 'Hi ' + name;\n", 'the person’s commit stands');
    assert.equal(readFileSync(join(root, 'src/bye.js'), 'utf8'), "exports.bye = (name) => 'Bye, ' + name + '!';\n", 't2 merged');
    assert.deepEqual(ticked(root), [false, true]);
    assertNoHalfMerge(root);
    assert.deepEqual(chamberBranches(root), [`symphony/${t1Chamber}`]);
    assert.ok(subjects(root).includes('A greeting of my own'));
  });
});
