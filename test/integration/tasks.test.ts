import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, cleanUpAfterEach, scratch, waitFor, writeFile } from './util';

/** Executes a task and resolves with the exit code its process (the pseudoterminal) ended with. */
async function exitCodeOf(task: vscode.Task): Promise<number | undefined> {
  let execution: vscode.TaskExecution | undefined;
  const ended = new Promise<number | undefined>((resolve) => {
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution === execution || e.execution.task.name === task.name) {
        sub.dispose();
        resolve(e.exitCode);
      }
    });
  });
  execution = await vscode.tasks.executeTask(task);
  return ended;
}

/** Runs of a melody this window knows of, newest first. */
async function runsOf(melody: string) {
  const { context } = await api();
  return context.runs.model.snapshot.runs.filter((r) => r.melody === melody);
}

describe('Tasks: the symphony task provider', () => {
  cleanUpAfterEach();
  // The tasks' terminals stay open ("press any key to close") until closed.
  afterEach(() => {
    for (const terminal of vscode.window.terminals) terminal.dispose();
  });

  it('offers every melody of the workspace as a task; running one runs it on the engine and exits 0', async () => {
    await api();
    const tasks = await vscode.tasks.fetchTasks({ type: 'symphony' });
    const names = tasks.map((t) => t.name);
    for (const melody of ['hello', 'build', 'code-review', 'release-notes']) assert.ok(names.includes(melody), `${melody} in ${names.join(', ')}`);
    const hello = tasks.find((t) => t.name === 'hello')!;
    assert.strictEqual(hello.definition.melody, 'melodies/hello.melody.yaml');

    const before = (await runsOf('hello')).length;
    assert.strictEqual(await exitCodeOf(hello), 0);
    const run = await waitFor('the task’s run in the Runs model', async () => {
      const runs = await runsOf('hello');
      return runs.length > before && runs.find((r) => r.trigger.detail === 'Tasks');
    });
    assert.strictEqual(run.state, 'success');
  });

  it('runs a tasks.json entry with its inputs, and a failing melody exits 1', async () => {
    await writeFile(
      scratch('melodies', 'task-fails.melody.yaml'),
      [
        'name: task-fails',
        'inputs:',
        '  code: { type: string, default: "0" }',
        'permissions: { commands: [node] }',
        'nodes:',
        '  exit:',
        '    uses: shell',
        '    with: { command: node, args: ["-e", "process.exit(Number(process.argv[1]))", "${{ inputs.code }}"] }',
        '',
      ].join('\n'),
    );
    await writeFile(
      scratch('.vscode', 'tasks.json'),
      JSON.stringify({
        version: '2.0.0',
        tasks: [
          { type: 'symphony', label: 'exits 3', melody: 'task-fails', inputs: { code: '3' } },
          { type: 'symphony', label: 'exits 0', melody: 'melodies/task-fails.melody.yaml', inputs: { code: '0' } },
        ],
      }),
    );
    const { context } = await api();
    await context.index.refresh();
    const configured = await waitFor('the tasks.json entries', async () => {
      const tasks = await vscode.tasks.fetchTasks({ type: 'symphony' });
      const fails = tasks.find((t) => t.name === 'exits 3');
      const passes = tasks.find((t) => t.name === 'exits 0');
      return fails && passes && { fails, passes };
    });
    assert.deepStrictEqual(configured.fails.definition.inputs, { code: '3' });

    assert.strictEqual(await exitCodeOf(configured.fails), 1);
    const failed = (await runsOf('task-fails'))[0]!;
    assert.strictEqual(failed.state, 'failure');
    assert.deepStrictEqual(failed.inputs, { code: '3' });

    assert.strictEqual(await exitCodeOf(configured.passes), 0);
  });

  it('Terminate Task cancels the run', async () => {
    await writeFile(
      scratch('melodies', 'task-sleeper.melody.yaml'),
      ['name: task-sleeper', 'permissions: { commands: [node] }', 'nodes:', '  sleep:', '    uses: shell', '    with: { command: node, args: ["-e", "setTimeout(() => {}, 600000)"] }', ''].join('\n'),
    );
    const { context } = await api();
    await context.index.refresh();
    const task = await waitFor('the sleeper task', async () => (await vscode.tasks.fetchTasks({ type: 'symphony' })).find((t) => t.name === 'task-sleeper'));
    const execution = await vscode.tasks.executeTask(task);
    const run = await waitFor('the sleeper to reach its node', async () => {
      const [r] = await runsOf('task-sleeper');
      return r?.nodes.sleep?.state === 'running' && r;
    });
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.name === 'task-sleeper') {
          sub.dispose();
          resolve(e.exitCode);
        }
      });
    });
    execution.terminate();
    await waitFor('the run to end cancelled', async () => context.runs.model.snapshot.get(run.runId)?.state === 'cancelled');
    // Terminated by the person, the task has no exit code of its own (VS Code says undefined); it ends.
    await ended;
  });
});
