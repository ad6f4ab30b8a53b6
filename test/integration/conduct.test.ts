import * as assert from 'assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { ConductReport } from '../../src/core/conductor/conduct';
import { api, cleanUpAfterEach, readFile, scratch, waitFor, workspaceRoot, writeFile } from './util';

const git = async (...args: string[]) => (await promisify(execFile)('git', args, { cwd: workspaceRoot().fsPath })).stdout;

/**
 * A script instrument that works like an agent, deterministically: asked first, it writes
 * the greeting file with write_file; once the tool's result is back, it answers in words.
 */
const SCRIBE = [
  "let s = '';",
  "process.stdin.on('data', (d) => (s += d)).on('end', () => {",
  '  const req = JSON.parse(s);',
  "  if (!req.messages.some((m) => m.role === 'tool')) {",
  "    console.log(JSON.stringify({ toolCalls: [{ name: 'write_file', input: { path: 'src/farewell.js', content: \"exports.bye = (n) => 'Bye, ' + n + '!';\\n\" } }] }));",
  "  } else console.log('Wrote src/farewell.js with a friendly bye().');",
  '});',
  '',
].join('\n');

describe('Conduct in the extension host', () => {
  cleanUpAfterEach();
  let start: string;

  // The test commits in the demo repository: afterwards it goes back to where it was, so the
  // suites after it find the tree they expect.
  before(async () => {
    start = (await git('rev-parse', 'HEAD')).trim();
  });
  after(async () => {
    await git('reset', '-q', '--hard', start);
  });

  it('plans the open task, opens the plan on the board, runs it, commits [Nickname] task and ticks the task in the open editor', async () => {
    await writeFile(scratch('scribe.js'), SCRIBE);
    await writeFile(scratch('ensembles', 'qa', 'scribe.yaml'), 'nickname: Quill\nkind: script\nrole: Writes small modules.\nhandles: ["src/**"]\nscript: { command: node, args: [scribe.js] }\n');
    await git('add', 'scribe.js', 'ensembles/qa/scribe.yaml');
    await git('-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'the scribe');
    const { context } = await api();
    await waitFor('the scribe in the index', () => context.index.model?.ensembles.refs.has('qa/scribe'));
    const sheetUri = vscode.Uri.joinPath(workspaceRoot(), 'sheetMusic.md');
    await writeFile(sheetUri, '# Sheet Music\n\n## Goal\n\nSay goodbye nicely.\n\n## Tasks\n\n- [ ] Add a farewell in `src/farewell.js` @qa/scribe\n');
    await git('config', 'user.name', 'Test');
    await git('config', 'user.email', 'test@example.com');
    // The sheet is open, as a person would have it while conducting.
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(sheetUri));

    const report = await vscode.commands.executeCommand<ConductReport | undefined>('symphony.conduct', { run: true });
    assert.ok(report, 'the conduct ran');
    assert.strictEqual(report.status, 'success', JSON.stringify(report, null, 2));
    const t1 = report.assignments.t1!;
    assert.strictEqual(t1.status, 'passed');
    assert.deepStrictEqual(t1.files, ['src/farewell.js']);
    assert.ok(t1.commit, t1.commitNote);
    assert.strictEqual((await git('log', '-1', '--format=%s')).trim(), '[Quill] Add a farewell in `src/farewell.js` @qa/scribe');
    assert.strictEqual((await git('show', '--name-only', '--format=', 'HEAD')).trim(), 'src/farewell.js');

    // The tick went through the editor: the open document shows it (and it is saved).
    await waitFor('the task ticked in the open editor', () => editor.document.getText().includes('- [x] Add a farewell'));
    assert.strictEqual(editor.document.isDirty, false);
    assert.match(await readFile(sheetUri), /- \[x\] Add a farewell/);

    // The plan is a melody on the board, and the handoff entry opened beside.
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.ok(
      tabs.some((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === 'symphony.harmonyBoard' && t.input.uri.path.endsWith(`${report.plan.file}`)),
      `the plan is open on the board (tabs: ${tabs.map((t) => t.label).join(', ')})`,
    );
    await waitFor('the handoff entry beside', () => vscode.window.visibleTextEditors.some((e) => e.document.uri.path.endsWith('/handoff.md')));
    assert.match(await readFile(vscode.Uri.joinPath(workspaceRoot(), 'handoff.md')), /### .+ — Quill[\s\S]*Wrote src\/farewell\.js/);

    scratch('.symphony', 'plans');
    scratch('.symphony', 'plan.melody.yaml');
  });
});
