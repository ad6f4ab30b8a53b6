import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ValidateJson } from '../../src/cli/commands/validate';
import { cli, REPO, tempDir } from './helpers';

const run = (cwd: string, ...argv: string[]) => cli(cwd, argv);

const BROKEN = [
  'name: broken',
  'nodes:',
  '  lint:',
  '    uses: shel',
  '    with: { command: npx }',
  '  test:',
  '    uses: shell',
  '    need: [lint]',
  '    with: { command: npm, args: [test] }',
  'permissions: { commands: [npx, npm] }',
  '',
].join('\n');

describe('symphony CLI', () => {
  describe('init', () => {
    it('creates the workspace skeleton, and the result validates', async () => {
      const dir = tempDir();
      const r = await run(dir, 'init', 'ws');
      assert.equal(r.code, 0);
      for (const f of ['sheetMusic.md', 'handoff.md', 'production.md', 'concerto.md', 'ensembles/core/reviewer.yaml', 'melodies/hello.melody.yaml', '.symphony/MISSION_CONTEXT.json', '.symphony/DEVIATIONS.json']) {
        assert.ok(existsSync(join(dir, 'ws', f)), `${f} was not created`);
        assert.match(r.stdout, new RegExp(`created ${f.replace(/\./g, '\\.')}`));
      }
      const v = await run(join(dir, 'ws'), 'validate', '.');
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stderr, /✓ \d+ files valid/);
    });

    it('never overwrites an existing file', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'sheetMusic.md'), 'my own prompt\n');
      mkdirSync(join(dir, 'melodies'));
      writeFileSync(join(dir, 'melodies', 'hello.melody.yaml'), 'name: mine\n');
      const r = await run(dir, 'init');
      assert.equal(r.code, 0);
      assert.equal(readFileSync(join(dir, 'sheetMusic.md'), 'utf8'), 'my own prompt\n');
      assert.equal(readFileSync(join(dir, 'melodies', 'hello.melody.yaml'), 'utf8'), 'name: mine\n');
      assert.match(r.stdout, /skipped sheetMusic\.md \(already exists\)/);
      assert.match(r.stdout, /skipped melodies\/hello\.melody\.yaml \(the workspace has its own\)/);
      assert.match(r.stdout, /created handoff\.md/);
      const again = await run(dir, 'init');
      assert.match(again.stdout, /^0 files created/m);
    });
  });

  describe('validate', () => {
    it('prints file:line:col: message for each problem and exits 1', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'broken.melody.yaml'), BROKEN);
      const r = await run(dir, 'validate', 'broken.melody.yaml');
      assert.equal(r.code, 1);
      assert.deepEqual(r.stdout.trimEnd().split('\n'), [
        'broken.melody.yaml:4:11: unknown node kind `shel`; did you mean `shell`?',
        'broken.melody.yaml:8:5: unknown key `need` in `nodes.test`; did you mean `needs`?',
      ]);
      assert.match(r.stderr, /✗ 2 errors in 1 of 1 file/);
    });

    it('prints the JSON shape of DESIGN.md §6 with --json', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'broken.melody.yaml'), BROKEN);
      writeFileSync(join(dir, 'fine.melody.yaml'), 'name: fine\nnodes:\n  a: { uses: notify, with: { message: hi } }\n');
      const r = await run(dir, 'validate', '.', '--json');
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as ValidateJson;
      assert.equal(out.ok, false);
      assert.deepEqual(out.errors[0], { file: 'broken.melody.yaml', line: 4, column: 11, message: 'unknown node kind `shel`; did you mean `shell`?' });
      assert.equal(out.errors.length, 2);
      assert.equal(r.stderr, '');
    });

    it('exits 0 for valid files and folders; warns where no model is set up', async () => {
      const r = await run(REPO, 'validate', 'examples/demo', '--json');
      const out = JSON.parse(r.stdout) as { ok: boolean; errors: unknown[]; warnings: { file: string; line: number; message: string }[] };
      assert.equal(r.code, 0);
      assert.deepEqual([out.ok, out.errors], [true, []]);
      // No key in this environment: the two nodes that call models are told, as warnings.
      assert.deepEqual(out.warnings.map((w) => `${w.file}:${w.line}`), ['examples/demo/melodies/code-review.melody.yaml:29', 'examples/demo/melodies/release-notes.melody.yaml:16']);
      assert.ok(out.warnings.every((w) => /needs a model, .* ANTHROPIC_API_KEY is not set/.test(w.message)));
      const keyed = await cli(REPO, ['validate', 'examples/demo', '--json'], { env: { ANTHROPIC_API_KEY: 'sk-test' } });
      assert.deepEqual(JSON.parse(keyed.stdout), { ok: true, errors: [], warnings: [] });
    });

    it('checks instrument references against the workspace ensembles', async () => {
      const dir = tempDir();
      await run(dir, 'init');
      writeFileSync(join(dir, 'melodies', 'ask.melody.yaml'), 'name: ask\nnodes:\n  q: { uses: instrument, instrument: core/reviwer, with: { prompt: hi } }\n');
      const r = await run(join(dir, 'melodies'), 'validate', 'ask.melody.yaml');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^ask\.melody\.yaml:3:38: unknown instrument `core\/reviwer`: there is no core\/reviwer\.yaml in ensembles\/; did you mean `core\/reviewer`\?$/m);
    });

    it('validates instrument files', async () => {
      const dir = tempDir();
      await run(dir, 'init');
      writeFileSync(join(dir, 'ensembles', 'core', 'broken.yaml'), 'nickname: Horn\nkind: model\n');
      const r = await run(dir, 'validate', 'ensembles/core/broken.yaml');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^ensembles\/core\/broken\.yaml:2:7: `kind`: a model instrument needs a `model:` section$/m);
    });

    it('reports a missing path as an error', async () => {
      const r = await run(tempDir(), 'validate', 'nope.melody.yaml');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /nope\.melody\.yaml:1:1: no such file or folder/);
    });

    it('exits 2 on a usage error', async () => {
      const r = await run(tempDir(), 'validate');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /missing required argument 'paths'/);
      assert.equal((await run(tempDir(), 'frobnicate')).code, 2);
    });
  });

  describe('the built bin', () => {
    const bin = join(REPO, 'dist', 'cli.js');
    before(function () {
      if (!existsSync(bin)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
    });

    it('runs as a real process with the documented exit codes', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'broken.melody.yaml'), BROKEN);
      const run = promisify(execFile);
      const ok = await run(process.execPath, [bin, 'validate', join(REPO, 'examples/demo')], { cwd: dir });
      assert.match(ok.stderr, /valid/);
      await assert.rejects(run(process.execPath, [bin, 'validate', 'broken.melody.yaml'], { cwd: dir }), (e: { code: number; stdout: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stdout, /^broken\.melody\.yaml:4:11: /m);
        return true;
      });
      const version = await run(process.execPath, [bin, '--version']);
      assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
    });
  });
});
