import * as assert from 'assert';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { RunResult } from '../../src/core/engine/engine';
import type { RunsNode } from '../../src/extension/runs/tree';
import { processesWith } from '../processes';
import { api, cleanUpAfterEach, EXTENSION_ID, readFile, scratch, waitFor, workspaceRoot, writeFile } from './util';

const melodyUri = (name: string) => vscode.Uri.joinPath(workspaceRoot(), 'melodies', `${name}.melody.yaml`);

type RunRow = Extract<RunsNode, { kind: 'run' }>;
type NodeRow = Extract<RunsNode, { kind: 'node' }>;

/** The Runs view's row of a run, when the view shows it. */
async function runRow(runId: string): Promise<RunRow | undefined> {
  const { views } = await api();
  return views.runs.getChildren().find((n): n is RunRow => n.kind === 'run' && n.run.runId === runId);
}

/** The node rows under a run row, as `id — description` plus the rows themselves. */
async function nodeRows(row: RunRow): Promise<{ lines: string[]; rows: NodeRow[] }> {
  const { views } = await api();
  const rows = views.runs.getChildren(row).filter((n): n is NodeRow => n.kind === 'node');
  return { rows, lines: rows.map((n) => `${n.id} — ${String(views.runs.getTreeItem(n).description)}`) };
}

/** Runs what a row does when clicked. */
async function click(row: RunsNode): Promise<void> {
  const { views } = await api();
  const command = views.runs.getTreeItem(row).command;
  assert.ok(command, 'the row has a click command');
  await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
}

/** The `symphony` CLI of this checkout, run with the extension host's Node. */
const cliPath = () => join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
const cliOptions = () => ({ cwd: workspaceRoot().fsPath, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });

/** Waits for a process to be gone (signal 0 only checks that it exists). */
function gone(what: string, pid: number): Promise<true> {
  return waitFor(`${what} (pid ${pid}) to be gone`, () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  });
}

/**
 * Kills a process that may already be gone: killing a sandbox ends the program inside it
 * (its pid namespace goes with it), which may win the race with the next kill.
 */
function killIfThere(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/**
 * Writes a melody whose node `sleep` writes `<name>.pid` and sleeps for a minute — or, once
 * a file named `go` exists, succeeds at once. Its program runs in the sandbox, where its
 * pid is not the host's: `processes()` finds it, and the sandbox around it, by a marker in
 * its arguments. `started()` waits until it sleeps.
 */
async function writeSleeper(name: string, upstream = false): Promise<{ readonly pidFile: vscode.Uri; readonly started: () => Promise<void>; readonly processes: () => number[] }> {
  const marker = `symphony-${name}-${Date.now()}`;
  const script = `const fs = require('fs'); if (fs.existsSync('go')) process.exit(0); fs.writeFileSync(process.argv[1], ''); setTimeout(() => {}, 60000)`;
  const lines = [`name: ${name}`, 'permissions: { commands: [node] }', 'nodes:'];
  if (upstream) lines.push('  first:', '    uses: transform', '    with: { value: 1 }');
  lines.push('  sleep:', '    uses: shell', ...(upstream ? ['    needs: [first]'] : []), `    with: { command: node, args: ["-e", "${script}", "${name}.pid", "${marker}"] }`, '');
  await writeFile(scratch('melodies', `${name}.melody.yaml`), lines.join('\n'));
  const pidFile = scratch(`${name}.pid`);
  const started = async () => void (await waitFor(`${name} to reach its sleeping node`, async () => (await readFile(pidFile).then(() => true, () => false)) || undefined));
  return { pidFile, started, processes: () => processesWith(marker) };
}

/** Waits until no process of a sleeper is left. */
function allGone(what: string, processes: () => number[]): Promise<true> {
  return waitFor(`${what} to be gone`, () => processes().length === 0);
}

/** The active editor once it shows a `symphony-run:` document at `path`. */
function runDocument(path: string): Promise<vscode.TextEditor> {
  return waitFor(`the document ${path}`, () => {
    const editor = vscode.window.activeTextEditor;
    return editor?.document.uri.scheme === 'symphony-run' && editor.document.uri.path === path && editor;
  });
}

describe('Runs', () => {
  cleanUpAfterEach();

  it('runs build from the command; the Runs view reaches success on every node; a node opens its output', async () => {
    const started = Date.now();
    const result = await vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', melodyUri('build'));
    assert.ok(result, 'the command resolves with the run record');
    console.log(`      build: the command took ${Date.now() - started} ms (the run itself ${result.durationMs} ms)`);
    assert.strictEqual(result.state, 'success', JSON.stringify(result.nodes, null, 2));

    const row = await waitFor('the run in the Runs view', () => runRow(result.runId));
    const { views } = await api();
    assert.match(String(views.runs.getTreeItem(row).description), /^success · /);
    const { lines, rows } = await nodeRows(row);
    assert.deepStrictEqual(
      lines.map((l) => l.replace(/ · .*/, '')),
      ['syntax — success', 'test — success', 'summary — success'],
    );

    await click(rows.find((n) => n.id === 'test')!);
    const test = await runDocument(`/${result.runId}/test.output.json`);
    assert.strictEqual(test.document.languageId, 'json');
    const output = JSON.parse(test.document.getText()) as { exitCode: number; stdout: string };
    assert.strictEqual(output.exitCode, 0);
    assert.match(output.stdout, /# pass \d+/);

    // A text output opens as text, exactly as the node produced it.
    await click(rows.find((n) => n.id === 'summary')!);
    const summary = await runDocument(`/${result.runId}/summary.output.txt`);
    assert.strictEqual(summary.document.getText(), result.nodes.summary!.output);

    await vscode.commands.executeCommand('symphony.openRunLog', row);
    const transcript = await runDocument(`/${result.runId}.log`);
    assert.match(transcript.document.getText(), /■ run success in /);
  });

  it('a failing node ends the run as a failure, shows its error, and the extension carries on', async () => {
    await writeFile(
      scratch('melodies', 'fails.melody.yaml'),
      [
        'name: fails',
        'permissions: { commands: [node] }',
        'nodes:',
        '  boom:',
        '    uses: shell',
        `    with: { command: node, args: ["-e", "console.error('broken on purpose'); process.exit(1)"] }`,
        '  after:',
        '    uses: transform',
        '    needs: [boom]',
        '    with: { value: never }',
        '',
      ].join('\n'),
    );
    const result = await vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', melodyUri('fails'));
    assert.ok(result);
    assert.strictEqual(result.state, 'failure');
    assert.match(result.nodes.boom!.error ?? '', /exited with code 1[\s\S]*broken on purpose/);
    assert.strictEqual(result.nodes.after!.state, 'skipped');

    const row = await waitFor('the failed run in the Runs view', () => runRow(result.runId));
    const { views } = await api();
    assert.match(String(views.runs.getTreeItem(row).description), /^failure/);
    const { lines, rows } = await nodeRows(row);
    assert.deepStrictEqual(
      lines.map((l) => l.replace(/ · .*/, '')),
      ['boom — failure', 'after — skipped'],
    );
    // The tooltips VS Code asks for when a row is hovered.
    const tooltip = (node: RunsNode) => (views.runs.resolveTreeItem(views.runs.getTreeItem(node), node).tooltip as vscode.MarkdownString).value;
    assert.match(tooltip(rows[0]!), /broken on purpose/);
    assert.match(tooltip(rows[1]!), /Why: the run is stopping: boom failed/);

    // Clicking the failed node shows its log, which starts with the error.
    await click(rows[0]!);
    const log = await runDocument(`/${result.runId}/boom.log`);
    assert.match(log.document.getText(), /^boom — failure[\s\S]*error: node exited with code 1[\s\S]*broken on purpose/);

    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    const again = await vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', melodyUri('hello'), { inputs: { greeting: 'Still here' } });
    assert.strictEqual(again?.state, 'success', 'the next run works');
  });

  it('Cancel Run stops a running melody: it ends cancelled and its process is gone', async () => {
    const sleeper = await writeSleeper('sleeper');
    const running = vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', melodyUri('sleeper'));
    await sleeper.started();
    assert.ok(sleeper.processes().length > 0, 'the sleeper runs');

    const { views, context } = await api();
    const row = await waitFor('the live run in the Runs view', () =>
      views.runs.getChildren().find((n): n is RunRow => n.kind === 'run' && n.run.melody === 'sleeper' && n.phase === 'live'),
    );
    assert.strictEqual(views.runs.getTreeItem(row).contextValue, 'run.live');
    const sleeping = await waitFor('the node to be running', async () => (await nodeRows(row)).rows.find((n) => n.node.state === 'running'));
    assert.strictEqual((views.runs.getTreeItem(sleeping).iconPath as vscode.ThemeIcon).id, 'sync~spin');
    assert.deepStrictEqual(
      context.runs.activeRuns().map((r) => r.runId),
      [row.run.runId],
    );

    const cancelledAt = Date.now();
    assert.strictEqual(await vscode.commands.executeCommand('symphony.cancelRun', row), true);
    const result = await running;
    const ended = Date.now() - cancelledAt;
    assert.strictEqual(result?.state, 'cancelled');
    assert.strictEqual(result.nodes.sleep!.state, 'cancelled');
    await allGone('the sleeper', sleeper.processes);
    console.log(`      cancel → run ended in ${ended} ms, process gone in ${Date.now() - cancelledAt} ms`);
    await waitFor('the view to show it cancelled', async () => (await runRow(result.runId))?.run.state === 'cancelled');
    assert.deepStrictEqual(context.runs.activeRuns(), []);
  });

  it('shutting down (as deactivate() does) cancels running melodies and waits for their journals', async () => {
    const napper = await writeSleeper('napper');
    const running = vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', melodyUri('napper'));
    await napper.started();
    const { context } = await api();
    const started = Date.now();
    await context.runs.shutdown(3000);
    const took = Date.now() - started;
    const result = await running;
    assert.strictEqual(result?.state, 'cancelled');
    // The journal on disk is complete when shutdown resolves: its last event is the run's end.
    const journal = await readFile(vscode.Uri.joinPath(workspaceRoot(), '.symphony', 'runs', result.runId, 'journal.jsonl'));
    const last = JSON.parse(journal.trim().split('\n').pop()!) as { type: string; status?: string };
    assert.deepStrictEqual([last.type, last.status], ['run-finished', 'cancelled']);
    assert.deepStrictEqual(context.runs.activeRuns(), []);
    await allGone('the napper', napper.processes);
    console.log(`      shutdown with one running melody took ${took} ms`);
  });

  it('nests a sub-melody run under the node that started it', async () => {
    await writeFile(
      scratch('melodies', 'parent.melody.yaml'),
      [
        'name: parent',
        // A sub-melody gets no more than its caller: hello runs git and writes handoff.md.
        'permissions: { commands: [git], fs: { write: ["handoff.md"] } }',
        'nodes:',
        '  child:',
        '    uses: melody',
        '    with: { melody: melodies/hello.melody.yaml, inputs: { greeting: Nested } }',
        '',
      ].join('\n'),
    );
    const result = await vscode.commands.executeCommand<RunResult | undefined>('symphony.runMelody', melodyUri('parent'));
    assert.strictEqual(result?.state, 'success', JSON.stringify(result?.nodes, null, 2));
    const { views } = await api();
    const row = await waitFor('the parent run', () => runRow(result.runId));
    const [child] = (await nodeRows(row)).rows;
    assert.strictEqual(child?.id, 'child');
    assert.strictEqual(views.runs.getTreeItem(child).collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
    const [sub] = views.runs.getChildren(child);
    assert.ok(sub?.kind === 'run');
    assert.strictEqual(sub.run.melody, 'hello');
    assert.deepStrictEqual(sub.run.parent, { runId: result.runId, nodeId: 'child' });
    assert.strictEqual(views.runs.getTreeItem(sub).contextValue, 'run.ended.child');
    assert.ok(!views.runs.getChildren().some((n) => n.kind === 'run' && n.run.runId === sub.run.runId), 'not listed at the top level');
    assert.strictEqual(views.runs.getParent(sub)?.kind, 'node', 'reveal finds its way up');
    assert.deepStrictEqual(
      (await nodeRows(sub)).lines.map((l) => l.replace(/ · .*/, '')),
      ['status — success', 'message — success', 'record — success'],
    );
  });

  it('shows a run the CLI started, from the files it writes', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [cliPath(), 'run', 'melodies/hello.melody.yaml', '--json'], cliOptions());
    const exited = Date.now();
    const { runId } = JSON.parse(stdout) as { runId: string };
    const row = await waitFor('the CLI run in the Runs view', async () => {
      const r = await runRow(runId);
      return r?.run.state === 'success' && r;
    });
    console.log(`      a finished CLI run showed in the view ${Date.now() - exited} ms after the CLI exited`);
    assert.strictEqual(row.phase, 'ended');
    const { lines } = await nodeRows(row);
    assert.deepStrictEqual(
      lines.map((l) => l.replace(/ · .*/, '')),
      ['status — success', 'message — success', 'record — success'],
    );
  });

  it('a CLI run killed outright shows as interrupted, and Resume Run finishes it without re-running what finished', async () => {
    const go = scratch('go');
    const resumable = await writeSleeper('resumable', true);
    let runId = '';
    const cli = spawn(process.execPath, [cliPath(), 'run', 'melodies/resumable.melody.yaml'], { ...cliOptions(), stdio: 'ignore' });
    let interrupted: RunRow;
    try {
      await resumable.started();
      const { views } = await api();
      const running = await waitFor('the run to show as running in another process', () =>
        views.runs.getChildren().find((n): n is RunRow => n.kind === 'run' && n.run.melody === 'resumable' && n.phase === 'elsewhere'),
      );
      runId = running.run.runId;

      cli.kill('SIGKILL');
      for (const pid of resumable.processes()) killIfThere(pid); // the sandbox and its program, which the CLI would have stopped
      await allGone('the sleeper', resumable.processes);
      await gone('the CLI', cli.pid!);
      const killed = Date.now();
      interrupted = await waitFor('the run to show as interrupted', async () => {
        const r = await runRow(runId);
        return r?.phase === 'interrupted' && r;
      });
      console.log(`      a killed CLI run showed as interrupted ${Date.now() - killed} ms after its process was gone`);
      assert.strictEqual(views.runs.getTreeItem(interrupted).contextValue, 'run.interrupted');
    } finally {
      // Failed before the kills: the CLI and its minute-long node must not outlive the test.
      if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
      for (const pid of resumable.processes()) killIfThere(pid);
    }

    await writeFile(go, '');
    const result = await vscode.commands.executeCommand<RunResult | undefined>('symphony.resumeRun', interrupted);
    assert.ok(result);
    assert.strictEqual(result.runId, runId);
    assert.strictEqual(result.state, 'success', JSON.stringify(result.nodes, null, 2));
    assert.strictEqual(result.resumes, 1);
    assert.strictEqual(result.nodes.first!.attempts, 1, 'the node that finished before the kill did not run again');
    await waitFor('the view to show it succeeded', async () => (await runRow(runId))?.run.state === 'success');
  });
});
