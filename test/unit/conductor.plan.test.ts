import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelPlanner, planMelody, readConductInputs } from '../../src/core/conductor/conduct';
import { planTasks, routeByHandles } from '../../src/core/conductor/plan';
import { parseSheet } from '../../src/core/conductor/sheet';
import { parseProduction } from '../../src/core/context/production';
import { loadMelody } from '../../src/core/load/melody';
import { formatDiagnostic } from '../../src/core/model/diagnostic';
import { FakeModels, scratchDir, testInstrument } from './nodeContext';

const coder = testInstrument({ ref: 'backend/coder', ensemble: 'backend', id: 'coder', nickname: 'Viola', handles: ['src/server/**', '**/*.sql'] });
const writer = testInstrument({ ref: 'docs/writer', ensemble: 'docs', id: 'writer', nickname: 'Quill', handles: ['docs/**'] });
const planner = testInstrument({ ref: 'core/planner', ensemble: 'core', id: 'planner', nickname: 'Harp', handles: undefined });
const instruments = [coder, writer, planner];
const noGoals = parseProduction('');

const sheet = (tasks: string[]) => parseSheet(`# Sheet\n\n## Goal\n\nShip it.\n\n## Tasks\n\n${tasks.map((t) => `- ${t}`).join('\n')}\n`);

describe('the Conductor’s planning', () => {
  it('routes by mention first, then by handles globs; orders tasks that name the same files, the rest may run in parallel', async () => {
    const plan = await planTasks({
      sheet: sheet(['[ ] Add an index to `db/orders.sql`', '[ ] Document the orders API in `docs/orders.md` @docs/writer', '[x] Done already @backend/coder', '[ ] Rename the orders table in `db/orders.sql` and `src/server/orders.ts`', '[ ] Log slow queries in `src/server/log.ts`']),
      production: noGoals,
      config: {},
      instruments,
    });
    assert.deepEqual(
      plan.assignments.map((a) => [a.id, a.instrument, a.routedBy, a.needs]),
      [
        ['t1', 'backend/coder', 'handles', []],
        ['t2', 'docs/writer', 'mention', []],
        ['t4', 'backend/coder', 'handles', ['t1']],
        ['t5', 'backend/coder', 'handles', []],
      ],
    );
    assert.deepEqual(plan.assignments[0]!.outputs.scope, ['db/orders.sql', 'src/server/**', '**/*.sql']);
    assert.equal(routeByHandles(['src/server/a.ts', 'docs/x.md', 'docs/y.md'], instruments)?.ref, 'docs/writer', 'the instrument handling the most files wins');
  });

  it('reports a task it cannot route with what to add, and an unknown mention with a suggestion', async () => {
    const plan = await planTasks({ sheet: sheet(['[ ] Make it faster', '[ ] Fix @backend/codr']), production: noGoals, config: {}, instruments });
    assert.deepEqual(plan.assignments, []);
    assert.match(plan.unroutable[0]!.reason, /no instrument is mentioned and it names no files \(in backticks\) to route by: add @ensemble\/instrument to the task, a `handles:` glob to an instrument, or `planner: ensemble\/instrument` to \.symphony\/conductor\.yaml/);
    assert.match(plan.unroutable[1]!.reason, /it mentions @backend\/codr, and there is no such instrument; did you mean @backend\/coder\?/);
  });

  it('asks the planner for the rest, with one repair when its answer is not a plan', async () => {
    const models = new FakeModels();
    models.reply('Sure! Task 1 goes to the coder.').reply(JSON.stringify({ assignments: [{ task: 1, instrument: 'backend/coder', objective: 'Profile and speed up the order query', files: ['src/server/orders.ts'] }] }));
    const usage = { tokens: { input: 0, output: 0 }, costUsd: 0 };
    const root = scratchDir();
    const plan = await planTasks(
      { sheet: sheet(['[ ] Make it faster']), production: noGoals, config: { planner: 'core/planner' }, instruments },
      modelPlanner(planner, { root, models, signal: new AbortController().signal }, usage),
    );
    assert.deepEqual(plan.assignments.map((a) => [a.instrument, a.routedBy, a.objective, a.inputs.files]), [['backend/coder', 'planner', 'Profile and speed up the order query', ['src/server/orders.ts']]]);
    assert.equal(models.requests.length, 2);
    const repair = models.requests[1]!.request.messages;
    assert.match(repair[repair.length - 1]!.role === 'user' ? (repair[repair.length - 1] as { text: string }).text : '', /That is not a valid plan: not JSON/);
    assert.ok(models.requests[0]!.request.json?.schema, 'the plan is asked as structured output');
    assert.deepEqual(usage.tokens, { input: 20, output: 10 }, 'the planning calls are counted');
  });

  it('leaves the tasks unroutable with a clear message when the planner answers garbage twice, and runs the rest', async () => {
    const models = new FakeModels();
    models.reply('{"plan": "later"}').reply('still not it');
    const plan = await planTasks(
      { sheet: sheet(['[ ] Make it faster', '[ ] Document `docs/x.md`']), production: noGoals, config: { planner: 'core/planner' }, instruments },
      modelPlanner(planner, { root: scratchDir(), models, signal: new AbortController().signal }, { tokens: { input: 0, output: 0 }, costUsd: 0 }),
    );
    assert.deepEqual(plan.assignments.map((a) => a.id), ['t2']);
    assert.equal(plan.unroutable.length, 1);
    assert.match(plan.unroutable[0]!.reason, /the planner core\/planner failed: the planner core\/planner answered twice with something that is not a plan \(not JSON/);
  });

  it('writes the plan as a melody that loads, with the permissions it needs and the tests it runs', async () => {
    const root = scratchDir();
    writeFileSync(join(root, 'sheetMusic.md'), '## Tasks\n- [ ] Fix `src/server/a.ts` @backend/coder\n- [ ] Write `docs/a.md` @docs/writer\n');
    writeFileSync(join(root, 'production.md'), '## Checklist\n- [ ] All tests pass\n\nTest command: `npm test`\n');
    writeFileSync(join(root, '.symphony-placeholder'), '');
    const inputs = await readConductInputs(root);
    const plan = await planTasks({ ...inputs, instruments });
    const text = planMelody(plan, { ...inputs, config: { reviewer: 'core/planner' } }, '20261130-000000-abc123');
    const loaded = loadMelody(text, join(root, '.symphony/plans/x.melody.yaml'), { instruments: new Set(instruments.map((i) => i.ref)) });
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.error));
    const m = loaded.value.melody;
    assert.deepEqual(m.permissions, { fs: { write: ['src/server/a.ts', 'src/server/**', '**/*.sql', 'tests/**', 'docs/a.md', 'docs/**'] }, commands: ['npm', 'git'] });
    assert.deepEqual(Object.keys(m.nodes), ['t1', 't2']);
    assert.equal(m.nodes.t1!.uses, 'assignment');
    assert.deepEqual((m.nodes.t1!.with as { testCommand: string[]; reviewer: string }).testCommand, ['npm', 'test']);
    assert.equal((m.nodes.t2!.with as { reviewer: string }).reviewer, 'core/planner');
    assert.match(text, /^# The Conductor's plan of sheetMusic\.md/);
  });

  it('says what is wrong with a broken conductor.yaml or a sheet with no tasks, at file:line:col', async () => {
    const root = scratchDir();
    writeFileSync(join(root, 'sheetMusic.md'), '# Nothing to do\n');
    await (await import('node:fs/promises')).mkdir(join(root, '.symphony'));
    writeFileSync(join(root, '.symphony', 'conductor.yaml'), 'planer: core/planner\n');
    const inputs = await readConductInputs(root);
    assert.deepEqual(inputs.problems.map((d) => formatDiagnostic(d)), [
      'sheetMusic.md:1:1: sheetMusic.md has no tasks: add them as Markdown task items, e.g. "- [ ] Fix the greeting in `src/greet.js` @core/coder"',
      '.symphony/conductor.yaml:1:1: unknown key `planer`; did you mean `planner`?',
    ]);
  });
});
