import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { isAscii } from 'node:buffer';
import { build } from 'esbuild';
import { asciiBundle } from '../../scripts/cliBundle.mjs';
import { BUNDLES_KEPT, cacheFile, decode, readBundle, readCache, userCacheDir, writeCache } from '../../src/cli/codeCache';
import { REPO, tempDir } from './helpers';

const run = promisify(execFile);

const MELODY = ['name: small', 'nodes:', '  a: { uses: transform, with: { value: 1 } }', '  b: { uses: transform, needs: [a], with: { value: "…" } }', ''].join('\n');

describe('the CLI code cache (dist/cli.js)', () => {
  const bin = join(REPO, 'dist', 'cli.js');
  before(function () {
    if (!existsSync(bin)) throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  });

  /** `symphony validate` with its own cache folder; its output and the cache files after it. */
  async function validate(cacheHome: string, cwd: string) {
    const r = await run(process.execPath, [bin, 'validate', 'small.melody.yaml', '--json'], { cwd, env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
    const dir = join(cacheHome, 'symphony', 'cli');
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-validate.bin')) : [];
    return { stdout: r.stdout, stderr: r.stderr, dir, files };
  }

  it('stores what a command compiled and starts from it the next time, with the same output', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'small.melody.yaml'), MELODY);
    const home = tempDir();
    const first = await validate(home, cwd);
    assert.deepEqual(JSON.parse(first.stdout), { ok: true, errors: [], warnings: [] });
    assert.equal(first.files.length, 1, 'one cache file for validate');
    const file = join(first.dir, first.files[0]!);
    assert.ok(readCache(file), 'the cache is whole');
    const written = statSync(file).mtimeMs;
    const bytes = readFileSync(file);

    const second = await validate(home, cwd);
    assert.equal(second.stdout, first.stdout);
    assert.equal(second.stderr, first.stderr);
    // A cache that V8 took is not written again.
    assert.equal(statSync(file).mtimeMs, written);
    assert.deepEqual(readFileSync(file), bytes);
  });

  it('ignores a corrupt cache, runs the same, and writes it again', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'small.melody.yaml'), MELODY);
    const home = tempDir();
    const first = await validate(home, cwd);
    const file = join(first.dir, first.files[0]!);
    const bytes = readFileSync(file);
    // One bit of V8's data flipped, past the header: V8 itself would not notice.
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length >> 1]! ^= 0x10;
    writeFileSync(file, corrupt);
    assert.equal(readCache(file), undefined);

    const second = await validate(home, cwd);
    assert.equal(second.stdout, first.stdout);
    assert.ok(readCache(file), 'written again, whole');

    // Garbage and an empty file alike.
    for (const junk of [Buffer.alloc(0), Buffer.from('not a cache at all, but long enough to have a header')]) {
      writeFileSync(file, junk);
      assert.equal((await validate(home, cwd)).stdout, first.stdout);
      assert.ok(readCache(file));
    }
  });

  it('keeps the caches of the bundles used last, removes older ones, and runs where no cache can be written', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'small.melody.yaml'), MELODY);
    const home = tempDir();
    const first = await validate(home, cwd);
    const data = readFileSync(join(first.dir, first.files[0]!));
    // Other installations' caches, written one after another (the oldest first).
    const others = Array.from({ length: BUNDLES_KEPT }, (_, i) => join(first.dir, `${i + 1}-100-v8-1.0-validate.bin`));
    others.forEach((f, i) => {
      writeFileSync(f, data);
      utimesSync(f, 1000 + i, 1000 + i);
    });
    // Another command: a miss, written beside validate's; the oldest other bundle's cache goes.
    await run(process.execPath, [bin, '--version'], { env: { ...process.env, XDG_CACHE_HOME: home } });
    assert.deepEqual(
      others.map((f) => existsSync(f)),
      others.map((_, i) => i > 0),
    );
    assert.equal(readdirSync(first.dir).filter((f) => !others.includes(join(first.dir, f))).length, 2, "this bundle's caches: validate and --version");

    // The cache folder cannot be made (a file is in its way): the command runs all the same.
    const blocked = join(tempDir(), 'file');
    writeFileSync(blocked, '');
    const r = await validate(blocked, cwd);
    assert.equal(r.stdout, first.stdout);
  });

  it('has no import() in the bundle, which Node 20 would not serve from the cache, and loads ES modules beside it', async () => {
    // A cached start runs code V8 compiled before, and Node 20 then has nothing to answer
    // an `import()` with: every one would fail, but only from the second start on.
    assert.doesNotMatch(readFileSync(join(REPO, 'dist', 'cli', 'symphony.cjs'), 'utf8'), /(?<![\w$.])import\(/);
    // The local model's runtime is such a module (top-level await: no `require()`), loaded by
    // dist/cli/importEsm.js, from a cached start as from the first.
    const dir = tempDir();
    const esm = join(dir, 'esm.mjs');
    writeFileSync(esm, 'await Promise.resolve();\nexport const answer = 42;\n');
    const importer = join(REPO, 'dist', 'cli', 'importEsm.js');
    writeFileSync(
      join(dir, 'bundle.cjs'),
      `require(${JSON.stringify(importer)}).importEsm(${JSON.stringify(pathToFileURL(esm).href)}).then((m) => process.stdout.write(String(m.answer)));\n`,
    );
    const runner = join(dir, 'runner.ts');
    // tsx turns source maps on, which the launcher meets by running the bundle uncached.
    writeFileSync(
      runner,
      `import { launch } from ${JSON.stringify(join(REPO, 'src', 'cli', 'codeCache'))};\nprocess.setSourceMapsEnabled(false);\nlaunch(${JSON.stringify(join(dir, 'bundle.cjs'))}, ['x']);\n`,
    );
    const home = tempDir();
    for (let i = 0; i < 2; i++) {
      const r = await run(process.execPath, ['--import', 'tsx', runner], { cwd: REPO, env: { ...process.env, XDG_CACHE_HOME: home } });
      assert.deepEqual([r.stdout, r.stderr], ['42', '']);
    }
    assert.equal(readdirSync(join(home, 'symphony', 'cli')).length, 1, 'the second start had a cache');
  });

  it('is ASCII, so each start takes its 1.7 MB as they are instead of decoding them, and reads `µs` in a duration as before', async () => {
    assert.ok(isAscii(readFileSync(join(REPO, 'dist', 'cli', 'symphony.cjs'))), 'dist/cli/symphony.cjs holds a character outside ASCII');
    // cel-js's pattern for durations held a `µ` (its file is escaped as it is bundled).
    const cwd = tempDir();
    writeFileSync(join(cwd, 'd.melody.yaml'), ['name: d', 'nodes:', '  a:', '    uses: transform', `    with: { value: "\${{ duration('1500µs') == duration('1ms500us') }}" }`, ''].join('\n'));
    const r = await run(process.execPath, [bin, 'run', 'd.melody.yaml', '--json'], { cwd, env: { ...process.env, XDG_CACHE_HOME: tempDir() } });
    assert.equal((JSON.parse(r.stdout) as { nodes: { a: { output: unknown } } }).nodes.a.output, true);
  });

  it('fails the build, naming the place, when a character outside ASCII would reach the bundle', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'entry.ts'), 'export const ok = "…";\nexport const quotes = /[‘’]/;\n');
    const outcome = await build({ entryPoints: [join(dir, 'entry.ts')], outdir: join(dir, 'out'), bundle: true, format: 'cjs', logLevel: 'silent', absWorkingDir: dir, plugins: [asciiBundle] }).then(
      () => assert.fail('the build passed'),
      (e: { errors: { text: string }[] }) => e.errors.map((x) => x.text).join('\n'),
    );
    // The string is escaped by esbuild; the pattern is not, and is named with its line.
    assert.match(outcome, /^out[\\/]entry\.js:\d+:\d+: ".*quotes = \/\[‘’\]\/.*" is not ASCII/);
  });

  it('runs the bundle as a plain module under --enable-source-maps, so stacks point into the sources', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'boom.ts'), 'export function boom(n: number): never {\n  throw new Error(`boom ${n}`);\n}\nboom(42);\n');
    await build({ entryPoints: [join(dir, 'boom.ts')], outfile: join(dir, 'bundle.cjs'), bundle: true, platform: 'node', format: 'cjs', minify: true, sourcemap: 'linked', logLevel: 'silent' });
    const runner = join(dir, 'runner.ts');
    writeFileSync(runner, `import { launch } from ${JSON.stringify(join(REPO, 'src', 'cli', 'codeCache'))};\nlaunch(${JSON.stringify(join(dir, 'bundle.cjs'))}, ['x']);\n`);
    const r = await run(process.execPath, ['--enable-source-maps', '--import', 'tsx', runner], { cwd: REPO, env: { ...process.env, XDG_CACHE_HOME: tempDir() } }).then(
      () => assert.fail('the bundle throws'),
      (e: { stderr: string }) => e,
    );
    assert.match(r.stderr, /boom\.ts:2:9/);
  });

  describe('its parts', () => {
    it('reads a cache only when it is whole: magic, format, length and checksum', () => {
      const dir = tempDir();
      const bundleFile = join(dir, 'b.cjs');
      writeFileSync(bundleFile, 'module.exports = 1;\n');
      const bundle = readBundle(bundleFile);
      const file = cacheFile(dir, bundle, 'validate');
      writeCache(file, Buffer.from('v8 data'), bundle);
      assert.deepEqual(readCache(file), Buffer.from('v8 data'));
      const whole = readFileSync(file);
      writeFileSync(file, whole.subarray(0, whole.length - 1));
      assert.equal(readCache(file), undefined, 'truncated');
      const other = Buffer.from(whole);
      other[0] = 0;
      writeFileSync(file, other);
      assert.equal(readCache(file), undefined, 'not ours');
      assert.equal(readCache(join(dir, 'missing.bin')), undefined);
    });

    it('names a cache by the bundle bytes and the command, never by a path given on the command line', () => {
      const dir = tempDir();
      const a = join(dir, 'a.cjs');
      writeFileSync(a, 'module.exports = 1;\n');
      const b = join(dir, 'b.cjs');
      writeFileSync(b, 'module.exports = 2;\n');
      assert.notEqual(cacheFile(dir, readBundle(a), 'run'), cacheFile(dir, readBundle(b), 'run'));
      assert.notEqual(cacheFile(dir, readBundle(a), 'run'), cacheFile(dir, readBundle(a), 'validate'));
      for (const odd of ['--version', '../../etc/passwd', 'Run', undefined]) assert.match(cacheFile(dir, readBundle(a), odd), /-other\.bin$/);
    });

    it('decodes the bundle as UTF-8 would, ASCII or not', () => {
      for (const text of ['plain ascii', 'a regular expression /[‘“…]/u and 𝄞 beyond the BMP', '']) {
        assert.equal(decode(Buffer.from(text, 'utf8')), text);
      }
    });

    it('keeps the cache in XDG_CACHE_HOME, else the platform’s user cache folder', () => {
      assert.equal(userCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux'), join('/x', 'symphony', 'cli'));
      assert.match(userCacheDir({}, 'linux'), /\.cache[\\/]symphony[\\/]cli$/);
      assert.match(userCacheDir({}, 'darwin'), /Library[\\/]Caches[\\/]symphony[\\/]cli$/);
      assert.equal(userCacheDir({ LOCALAPPDATA: 'C:\\L' }, 'win32'), join('C:\\L', 'symphony', 'Cache', 'cli'));
    });
  });
});
