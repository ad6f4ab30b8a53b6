import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTask, planCleanup } from '../../src/core/chambers/cleanup';
import { hasConflicts, mergeChambers, previewMerge, type MergeItem } from '../../src/core/chambers/merge';
import { chamberPath, loadChambers } from '../../src/core/chambers/registry';
import { parseWorkers, setupChambers } from '../../src/core/chambers/setup';
import { loadDeviations, recordDeviation, type NewDeviation } from '../../src/core/deviations/records';
import type { ChamberWorker } from '../../src/core/model/chamber';
import { commitAll, git, workspaceRepo, write } from './gitFixtures';
import { tempDir } from './helpers';

const WORKERS: ChamberWorker[] = [
  { id: 'auth-impl', module: 'auth', scope: 'src/auth/**', mission: 'Implement the login flow.' },
  { id: 'ui-impl', module: 'ui', scope: ['src/ui/**'] },
  { id: 'db-impl', module: 'db', scope: 'src/db/**' },
];

const deviation = (module: string, over: Partial<NewDeviation> = {}): NewDeviation => ({
  agent: 'Tuba',
  module,
  severity: 'major',
  expected: 'sessions in the database',
  discovered: 'sessions must be stateless tokens',
  action: 'used JWT',
  reasoning: 'the gateway is stateless',
  impact: 'db module loses the sessions table',
  ...over,
});

async function setUp(root: string, workers = WORKERS, cleanState = false) {
  const r = await setupChambers(root, workers, { cleanState });
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  return r.value;
}

function writePlan(root: string, plan: object): void {
  write(root, { '.symphony/MERGE_PLAN.json': JSON.stringify({ version: 1, ...plan }, null, 2) });
}

/** `chamber outcome` per item, for compact assertions. */
const outcomes = (items: readonly MergeItem[]) => items.map((i) => `${i.chamber} ${i.outcome}`);

/** No merge under way and no tracked change: what "left clean" means. */
function assertClean(root: string): void {
  assert.equal(existsSync(join(root, '.git', 'MERGE_HEAD')), false, 'a merge is still in progress');
  assert.equal(git(root, 'status', '--porcelain', '--untracked-files=no'), '');
  assert.doesNotMatch(git(root, 'status'), /unmerged|All conflicts fixed|You are in the middle/);
}

describe('chambers (real git repositories)', () => {
  describe('setup-chambers', () => {
    it('makes a worktree per worker on symphony/<id> with its tiered context in .chamber/', async () => {
      const root = workspaceRepo();
      await recordDeviation(root, deviation('auth'));
      await recordDeviation(root, deviation('ui', { discovered: 'the form is a wizard' }));
      const records = await loadDeviations(root);
      assert.ok(records.ok);
      const [authRecord, uiRecord] = records.value;
      commitAll(root, 'Deviations');

      const report = await setUp(root);
      assert.deepEqual(report.chambers.map((c) => `${c.id} ${c.branch} ${c.path} ${c.state}`), [
        'auth-impl symphony/auth-impl .symphony/chambers/auth-impl created',
        'ui-impl symphony/ui-impl .symphony/chambers/ui-impl created',
        'db-impl symphony/db-impl .symphony/chambers/db-impl created',
      ]);
      assert.equal(report.base, git(root, 'rev-parse', 'HEAD'));
      for (const w of WORKERS) {
        const dir = chamberPath(root, w.id);
        assert.equal(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD'), `symphony/${w.id}`);
        assert.equal(git(dir, 'rev-parse', 'HEAD'), report.base);
        assert.equal(git(dir, 'status', '--porcelain'), '', '.chamber/ is not a change in the chamber');
      }
      assert.match(git(root, 'worktree', 'list'), /\.symphony\/chambers\/auth-impl .* \[symphony\/auth-impl\]/);
      assert.equal(git(root, 'status', '--porcelain'), '', 'chambers are not a change in the workspace');

      const context = readFileSync(join(chamberPath(root, 'auth-impl'), '.chamber', 'CONTEXT.md'), 'utf8');
      const tiers = ['## MUST READ', '## SHOULD KNOW', '## REFERENCE IF NEEDED'].map((h) => context.indexOf(h));
      assert.ok(tiers.every((i, n) => i >= 0 && (n === 0 || i > tiers[n - 1]!)), `tiers in order:\n${context}`);
      const [must, should, reference] = [context.slice(tiers[0], tiers[1]), context.slice(tiers[1], tiers[2]), context.slice(tiers[2])];
      assert.match(must, /`src\/auth\/\*\*`/);
      assert.match(must, /Implement the login flow\./);
      assert.match(should, /Add sign-in/);
      assert.match(should, /- rate limiting/);
      assert.match(reference, new RegExp(`${authRecord!.id} — major, open`));
      assert.doesNotMatch(reference, new RegExp(uiRecord!.id), 'only the deviations of its own module');
      assert.match(reference, /`ui-impl` — module ui/);
      const json = JSON.parse(readFileSync(join(chamberPath(root, 'auth-impl'), '.chamber', 'context.json'), 'utf8')) as Record<string, unknown[]>;
      assert.deepEqual(Object.keys(json), ['chamber', 'mustRead', 'shouldKnow', 'referenceIfNeeded']);

      const saved = await loadChambers(root);
      assert.ok(saved.ok);
      assert.deepEqual(saved.value.map((c) => c.id), ['auth-impl', 'ui-impl', 'db-impl']);
    });

    it('keeps existing chambers as they are, and --clean-state recreates them from the merged state', async () => {
      const root = workspaceRepo();
      await setUp(root, WORKERS.slice(0, 1));
      const dir = chamberPath(root, 'auth-impl');
      write(dir, { 'src/auth/session.ts': 'export const s = 1;\n' });
      commitAll(dir, 'Session');
      const worked = git(dir, 'rev-parse', 'HEAD');

      const again = await setUp(root, WORKERS.slice(0, 1));
      assert.equal(again.chambers[0]!.state, 'kept');
      assert.ok(existsSync(join(dir, 'src/auth/session.ts')));

      write(root, { 'src/shared.ts': 'export const shared = 1;\n' });
      commitAll(root, 'Merged state');
      const clean = await setUp(root, WORKERS.slice(0, 1), true);
      assert.equal(clean.chambers[0]!.state, 'recreated');
      assert.equal(clean.chambers[0]!.previousHead, worked, 'the discarded work can be found again');
      assert.equal(git(dir, 'rev-parse', 'HEAD'), git(root, 'rev-parse', 'HEAD'));
      assert.ok(!existsSync(join(dir, 'src/auth/session.ts')));
      assert.ok(existsSync(join(dir, 'src/shared.ts')));
      assert.ok(existsSync(join(dir, '.chamber', 'CONTEXT.md')));
    });

    it('rejects bad workers and a workspace that is not a repository, creating nothing', async () => {
      const dup = parseWorkers('[{"id":"a","module":"m","scope":"x"},{"id":"a","module":"n","scope":"y"}]');
      assert.ok(!dup.ok);
      assert.deepEqual(dup.error, ['--workers:1:44: `[1].id`: the id "a" is used twice']);
      const bad = parseWorkers('[{"id":"../x","module":"m","scope":"x"}]');
      assert.ok(!bad.ok);
      assert.match(bad.error[0]!, /letters, digits/);
      assert.ok(!parseWorkers('[{"id":"a",').ok);
      assert.ok(!parseWorkers('[]').ok);

      const plain = tempDir();
      const r = await setupChambers(plain, WORKERS);
      assert.ok(!r.ok);
      assert.match(r.error[0]!, /not in a git repository/);
      assert.ok(!existsSync(join(plain, '.symphony')));

      git(plain, 'init', '--quiet');
      const empty = await setupChambers(plain, WORKERS);
      assert.ok(!empty.ok);
      assert.match(empty.error[0]!, /no commit yet/);
    });
  });

  describe('merge-chambers', () => {
    it('merges preserved work, flags adapted work, drops purged work and purged deviations, and says why', async () => {
      const root = workspaceRepo();
      await setUp(root);
      const auth = chamberPath(root, 'auth-impl');
      write(auth, { 'src/auth/login.ts': 'export const login = 2;\n', 'src/auth/legacy.ts': '// ARCHITECTURAL_MISMATCH: sessions table\nexport const legacy = 1;\n' });
      const recorded = await recordDeviation(auth, deviation('auth', { markers: [{ file: 'src/auth/legacy.ts', line: 1, text: 'sessions table' }] }));
      assert.ok(recorded.ok);
      commitAll(auth, 'Login');
      write(auth, { 'src/auth/token.ts': 'export const token = 1;\n' }); // left uncommitted by the worker
      const ui = chamberPath(root, 'ui-impl');
      write(ui, { 'src/ui/form.ts': 'export const form = 2;\n' });
      commitAll(ui, 'Form');
      const db = chamberPath(root, 'db-impl');
      write(db, { 'src/db/sessions.ts': 'export const sessions = 1;\n' });
      commitAll(db, 'Sessions table');

      writePlan(root, {
        modules: {
          auth: { decision: 'preserve', reason: 'fits' },
          ui: { decision: 'adapt', reason: 'the form becomes a wizard', notes: 'split into steps' },
          db: { decision: 'purge', reason: 'sessions are stateless now' },
        },
        deviations: { [recorded.value.id]: { decision: 'purge', reason: 'the legacy adapter is not needed' } },
      });
      const preview = await previewMerge(root);
      assert.ok(preview.ok);
      assert.deepEqual(preview.value.plan.map((p) => `${p.chamber.id} ${p.decision?.decision} ${p.deviations.map((d) => d.deviation).join(',')}`), [
        `auth-impl preserve ${recorded.value.id}`,
        'ui-impl adapt ',
        'db-impl purge ',
      ]);

      const r = await mergeChambers(root);
      assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
      const report = r.value;
      assert.deepEqual(outcomes(report.items), ['auth-impl merged', 'ui-impl merged', 'db-impl dropped']);
      assert.equal(hasConflicts(report), false);
      const [a, u, d] = report.items;
      assert.equal(a!.committedLeftovers, true);
      assert.deepEqual(a!.purged, [{ deviation: recorded.value.id, reason: 'the legacy adapter is not needed', files: ['src/auth/legacy.ts'] }]);
      assert.deepEqual(u!.adapt, [{ reason: 'the form becomes a wizard', notes: 'split into steps', files: ['src/ui/form.ts'] }]);
      assert.deepEqual(d!.commits.map((c) => c.slice(8)), ['Sessions table']);
      assert.deepEqual(d!.files, ['src/db/sessions.ts']);

      assert.equal(readFileSync(join(root, 'src/auth/login.ts'), 'utf8'), 'export const login = 2;\n');
      assert.ok(existsSync(join(root, 'src/auth/token.ts')), 'uncommitted chamber work is merged');
      assert.ok(!existsSync(join(root, 'src/auth/legacy.ts')), 'the purged deviation’s file is taken out');
      assert.equal(readFileSync(join(root, 'src/ui/form.ts'), 'utf8'), 'export const form = 2;\n');
      assert.ok(!existsSync(join(root, 'src/db/sessions.ts')), 'purged work is not merged');
      const records = await loadDeviations(root);
      assert.ok(records.ok);
      assert.deepEqual(records.value.map((x) => x.id), [recorded.value.id], 'records made in a chamber come along');

      const log = git(root, 'log', '--format=%B%x00', `${report.before}..HEAD`);
      assert.match(log, /Merge chamber auth-impl \(module auth\): preserve/);
      assert.match(log, new RegExp(`Purged for deviation ${recorded.value.id} \\(the legacy adapter is not needed\\):\\n- src/auth/legacy.ts`));
      assert.match(log, /Needs adapting — the form becomes a wizard: split into steps\n- src\/ui\/form.ts/);
      assert.doesNotMatch(log, /db-impl/);
      const saved = JSON.parse(readFileSync(join(root, '.symphony/MERGE_REPORT.json'), 'utf8')) as { items: MergeItem[] };
      assert.deepEqual(outcomes(saved.items), outcomes(report.items));
      assertClean(root);
    });

    it('reports a conflict and leaves the repository clean, merging the other chambers', async () => {
      const root = workspaceRepo();
      await setUp(root, WORKERS.slice(0, 2));
      const auth = chamberPath(root, 'auth-impl');
      write(auth, { 'src/auth/login.ts': 'export const login = "chamber";\n' });
      commitAll(auth, 'Chamber login');
      const ui = chamberPath(root, 'ui-impl');
      write(ui, { 'src/ui/form.ts': 'export const form = 2;\n' });
      commitAll(ui, 'Form');
      write(root, { 'src/auth/login.ts': 'export const login = "main";\n' });
      commitAll(root, 'Main login');
      writePlan(root, { modules: { auth: { decision: 'preserve', reason: 'r' }, ui: { decision: 'preserve', reason: 'r' } } });

      const r = await mergeChambers(root);
      assert.ok(r.ok);
      assert.deepEqual(outcomes(r.value.items), ['auth-impl conflict', 'ui-impl merged']);
      assert.deepEqual(r.value.items[0]!.conflicts, ['src/auth/login.ts']);
      assert.equal(hasConflicts(r.value), true);
      assertClean(root);
      assert.equal(readFileSync(join(root, 'src/auth/login.ts'), 'utf8'), 'export const login = "main";\n');
      assert.equal(readFileSync(join(root, 'src/ui/form.ts'), 'utf8'), 'export const form = 2;\n');
    });

    it('merges deviation records changed on both sides instead of conflicting on them', async () => {
      const root = workspaceRepo();
      await setUp(root, WORKERS.slice(0, 1));
      const auth = chamberPath(root, 'auth-impl');
      const inChamber = await recordDeviation(auth, deviation('auth'));
      commitAll(auth, 'Chamber record');
      const inMain = await recordDeviation(root, deviation('db'));
      assert.ok(inChamber.ok && inMain.ok);
      writePlan(root, { modules: { auth: { decision: 'preserve', reason: 'r' } } });

      const r = await mergeChambers(root);
      assert.ok(r.ok);
      assert.deepEqual(outcomes(r.value.items), ['auth-impl merged']);
      const records = await loadDeviations(root);
      assert.ok(records.ok);
      assert.deepEqual(records.value.map((x) => x.id).sort(), [inChamber.value.id, inMain.value.id].sort());
      assert.match(git(root, 'log', '--format=%s', '-2'), /merge plan and deviation records/, 'the plan is committed before the merges');
      assertClean(root);
    });

    it('leaves undecided chambers alone, and refuses a dirty tree or a missing plan', async () => {
      const root = workspaceRepo();
      await setUp(root, WORKERS.slice(0, 2));
      const noPlan = await mergeChambers(root);
      assert.ok(!noPlan.ok);
      assert.match(noPlan.error[0]!, /there is no \.symphony\/MERGE_PLAN\.json/);

      writePlan(root, { modules: { ui: { decision: 'preserve', reason: 'r' }, billing: { decision: 'purge', reason: 'r' } } });
      write(root, { 'src/auth/login.ts': 'local edit\n' });
      const dirty = await mergeChambers(root);
      assert.ok(!dirty.ok);
      assert.match(dirty.error[0]!, /commit or stash your changes first.*src\/auth\/login\.ts/);
      git(root, 'checkout', '--', 'src/auth/login.ts');

      const r = await mergeChambers(root);
      assert.ok(r.ok);
      assert.deepEqual(outcomes(r.value.items), ['auth-impl skipped', 'ui-impl up-to-date']);
      assert.deepEqual(r.value.warnings, ['.symphony/MERGE_PLAN.json decides on module "billing", which no chamber works on']);
    });

    it('reports a corrupt plan with its position and changes nothing', async () => {
      const root = workspaceRepo();
      await setUp(root, WORKERS.slice(0, 1));
      write(root, { '.symphony/MERGE_PLAN.json': '{ "version": 1, "modules": { "auth": { "decision": "keep", "reason": "r" } } }' });
      const head = git(root, 'rev-parse', 'HEAD');
      const r = await mergeChambers(root);
      assert.ok(!r.ok);
      assert.match(r.error[0]!, /^\.symphony\/MERGE_PLAN\.json:1:52: `modules\.auth\.decision` must be one of "preserve", "adapt", "purge"/);
      assert.equal(git(root, 'rev-parse', 'HEAD'), head);
    });
  });

  describe('cleanup-task', () => {
    function taskFiles(root: string): void {
      write(root, {
        '.symphony/GOTCHAS.md': 'gotchas\n',
        '.symphony/CLAUDE.md': 'claude\n',
        '.symphony/MODULE_CACHE.json': '{}',
        '.symphony/FAILURE_ANALYSIS.json': '{}',
        '.symphony/BUSINESS_LOGIC.json': '{"rules":[]}',
        '.symphony/INTEGRATION_PLAN.json': '{"steps":[]}',
        '.symphony/MERGE_PLAN.json': '{"version":1}',
      });
    }

    it('preserves the learnings, archives the plans, purges the task files, worktrees and branches', async () => {
      const root = workspaceRepo();
      taskFiles(root);
      await setUp(root, WORKERS.slice(0, 2));
      const auth = chamberPath(root, 'auth-impl');
      write(auth, { 'src/auth/x.ts': 'x\n' });
      commitAll(auth, 'Unmerged work');
      const unmergedHead = git(auth, 'rev-parse', 'HEAD');

      const plan = await planCleanup(root);
      assert.ok(plan.ok);
      assert.deepEqual(plan.value.chambers.map((c) => `${c.id} ${c.unmerged} ${c.dirty}`), ['auth-impl 1 false', 'ui-impl 0 false']);

      const r = await cleanupTask(root, { archive: true, now: new Date('2026-11-22T10:15:30.123Z') });
      assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
      assert.equal(r.value.archivedTo, '.symphony/archive/2026-11-22T10-15-30Z');
      assert.deepEqual(readdirSync(join(root, '.symphony/archive/2026-11-22T10-15-30Z')).sort(), ['BUSINESS_LOGIC.json', 'INTEGRATION_PLAN.json']);
      assert.equal(readFileSync(join(root, '.symphony/archive/2026-11-22T10-15-30Z/BUSINESS_LOGIC.json'), 'utf8'), '{"rules":[]}');
      assert.deepEqual(readdirSync(join(root, '.symphony')).sort(), ['CLAUDE.md', 'FAILURE_ANALYSIS.json', 'GOTCHAS.md', 'MODULE_CACHE.json', 'archive']);
      assert.deepEqual(r.value.purge, ['DEVIATIONS.json', 'MERGE_PLAN.json', 'MISSION_CONTEXT.json']);
      assert.equal(r.value.chambers.find((c) => c.id === 'auth-impl')?.head, unmergedHead, 'the report says where the unmerged work was');
      assert.doesNotMatch(git(root, 'worktree', 'list'), /\.symphony\/chambers/);
      assert.equal(git(root, 'branch', '--list', 'symphony/*'), '');
      assert.ok(!existsSync(join(root, '.symphony/chambers')));
    });

    it('--no-archive deletes the plans too and makes no archive', async () => {
      const root = workspaceRepo();
      taskFiles(root);
      const r = await cleanupTask(root, { archive: false });
      assert.ok(r.ok);
      assert.equal(r.value.archivedTo, undefined);
      assert.ok(!existsSync(join(root, '.symphony/archive')));
      assert.deepEqual(readdirSync(join(root, '.symphony')).sort(), ['CLAUDE.md', 'FAILURE_ANALYSIS.json', 'GOTCHAS.md', 'MODULE_CACHE.json']);
      assert.deepEqual(r.value.purge, ['BUSINESS_LOGIC.json', 'INTEGRATION_PLAN.json', 'DEVIATIONS.json', 'MERGE_PLAN.json', 'MISSION_CONTEXT.json']);
    });
  });
});
