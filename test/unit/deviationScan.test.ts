import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import fc from 'fast-check';
import { IgnoreTree } from '../../src/core/deviations/ignore';
import { MatchReader, MAX_FILE_BYTES, ripgrepArgs, scanMarkers, type ScanResult } from '../../src/core/deviations/scan';
import { write } from './gitFixtures';
import { tempDir } from './helpers';

const found = (r: ScanResult) => r.markers.map((m) => `${m.file}:${m.line}:${m.column} ${m.severity} ${m.text}`);

/** The system ripgrep; the tests that need it say so when it is missing. */
const RG = 'rg';
const hasRg = (() => {
  try {
    execFileSync(RG, ['--version']);
    return true;
  } catch {
    return false;
  }
})();

describe('deviation scan', () => {
  it('skips a FIFO put where a file was at once, without waiting for a writer', function () {
    if (process.platform === 'win32') this.skip();
    // A file ripgrep listed can be replaced before it is read; opened plainly, a FIFO holds
    // the thread (the extension host's) until something writes to it. In a child process,
    // so that such a hang fails this test instead of stopping the suite.
    const fifo = join(tempDir(), 'swapped.ts');
    execFileSync('mkfifo', [fifo]);
    const script = `
      const { scanFileSync } = require(${JSON.stringify(require.resolve('../../src/core/deviations/scan'))});
      console.log(JSON.stringify(scanFileSync(${JSON.stringify(fifo)})));
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.error, undefined, 'the scan returned without a writer');
    assert.equal(result.stdout.trim(), '[]', result.stderr);
  });

  before(function () {
    if (!hasRg) throw new Error('these tests compare against ripgrep: install it (apt-get install ripgrep)');
  });

  const FILES: Record<string, string | Buffer> = {
    '.gitignore': '# comment\n*.log\n!keep.log\n/build\ntmp/\n\\#hash.ts\nspaced.ts   \n',
    'src/a.ts': 'const a = 1; // ARCHITECTURAL_MISMATCH: a wants a list\n',
    'src/crlf.ts': 'x\r\n/* FUNDAMENTAL_BREAK: crlf */\r\n',
    'src/last.py': 'x = 1\n# DEVIATION_MINOR: no newline at the end',
    'src/strings.js': 'const s = "// DEVIATION_MINOR: in a string";\n',
    'src/nested/.gitignore': 'generated.ts\n',
    'src/nested/generated.ts': '// DEVIATION_MINOR: ignored by the nested .gitignore\n',
    'src/nested/kept.ts': '// DEVIATION_MINOR: kept\n',
    'src/.ignore': 'private.ts\n',
    'src/private.ts': '// DEVIATION_MINOR: ignored by .ignore\n',
    'debug.log': '# DEVIATION_MINOR: ignored log\n',
    'keep.log': '# DEVIATION_MINOR: re-included log\n',
    'build/out.js': '// DEVIATION_MINOR: anchored ignore\n',
    'sub/build/out.js': '// DEVIATION_MINOR: not anchored there\n',
    'tmp/t.ts': '// DEVIATION_MINOR: folder-only rule\n',
    'tmp.ts': '// DEVIATION_MINOR: a file named like the folder rule\n',
    '#hash.ts': '// DEVIATION_MINOR: escaped hash rule\n',
    'spaced.ts': '// DEVIATION_MINOR: trailing spaces in the rule\n',
    '.config/tool.sh': '# DEVIATION_MINOR: hidden files are scanned\n',
    '.git/info/exclude': 'excluded.ts\n',
    '.git/HEAD.ts': '// DEVIATION_MINOR: never inside .git\n',
    'excluded.ts': '// DEVIATION_MINOR: in .git/info/exclude\n',
    '.symphony/chambers/w/src/a.ts': '// DEVIATION_MINOR: a chamber copy\n',
    '.symphony/notes.md': '<!-- DEVIATION_MINOR: in .symphony -->\n',
    'image.bin': Buffer.concat([Buffer.from('// DEVIATION_MINOR: binary\n'), Buffer.from([0, 1, 2])]),
    'huge.ts': '// FUNDAMENTAL_BREAK: too large\n' + 'x'.repeat(MAX_FILE_BYTES),
  };

  const EXPECTED = [
    '.config/tool.sh:1:3 minor hidden files are scanned',
    '.symphony/notes.md:1:6 minor in .symphony',
    'keep.log:1:3 minor re-included log',
    'src/a.ts:1:17 major a wants a list',
    'src/crlf.ts:2:4 fundamental crlf',
    'src/last.py:2:3 minor no newline at the end',
    'src/nested/kept.ts:1:4 minor kept',
    'sub/build/out.js:1:4 minor not anchored there',
    'tmp.ts:1:4 minor a file named like the folder rule',
  ];

  for (const engine of ['ripgrep', 'node'] as const) {
    it(`${engine}: honours ignore files, skips .git, chambers, binary and huge files, links`, async () => {
      const root = tempDir();
      write(root, FILES);
      symlinkSync(join(root, 'src', 'a.ts'), join(root, 'link.ts'));
      const r = await scanMarkers(root, engine === 'ripgrep' ? { rg: RG } : {});
      assert.equal(r.engine, engine);
      assert.deepEqual(found(r), EXPECTED);
      assert.deepEqual(r.warnings, []);
    });

    it(`${engine}: honours the .gitignore of the repository above a scanned subfolder`, async () => {
      const root = tempDir();
      write(root, { '.git/HEAD': 'ref: refs/heads/main\n', '.gitignore': '*.gen.ts\n', 'pkg/a.gen.ts': '// DEVIATION_MINOR: generated\n', 'pkg/b.ts': '// DEVIATION_MINOR: b\n' });
      const r = await scanMarkers(join(root, 'pkg'), engine === 'ripgrep' ? { rg: RG } : {});
      assert.deepEqual(found(r), ['b.ts:1:4 minor b']);
    });
  }

  it('falls back to the pure-Node scan when ripgrep is not installed', async () => {
    const root = tempDir();
    write(root, { 'a.ts': '// DEVIATION_MINOR: a\n' });
    const r = await scanMarkers(root, { rg: join(root, 'no-such-rg') });
    assert.equal(r.engine, 'node');
    assert.deepEqual(found(r), ['a.ts:1:4 minor a']);
  });

  it('scans one file, relative to its folder', async () => {
    const root = tempDir();
    write(root, { 'a.ts': '// DEVIATION_MINOR: a\n', 'b.ts': '// DEVIATION_MINOR: b\n' });
    const r = await scanMarkers(join(root, 'a.ts'), { rg: RG });
    assert.equal(r.root, root);
    assert.deepEqual(found(r), ['a.ts:1:4 minor a']);
  });

  it('reads every file of a large result through a small pool, in order, as the Node walk does', async () => {
    const root = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`d${i % 7}/f${String(i).padStart(3, '0')}.ts`] = `x\n// DEVIATION_MINOR: ${i}\n`.repeat(3);
    write(root, files);
    const [rg, node] = await Promise.all([scanMarkers(root, { rg: RG, concurrency: 2 }), scanMarkers(root, { concurrency: 2 })]);
    assert.equal(rg.markers.length, 1200);
    assert.deepEqual(found(rg), found(node));
    assert.deepEqual(
      rg.markers.slice(0, 3).map((m) => `${m.file}:${m.line}`),
      ['d0/f000.ts:2', 'd0/f000.ts:4', 'd0/f000.ts:6'],
    );
  });

  it('stops when aborted', async () => {
    const root = tempDir();
    write(root, { 'a.ts': '// DEVIATION_MINOR: a\n' });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await assert.rejects(scanMarkers(root, { signal: controller.signal }), /stop/);
  });

  it('stops when aborted while ripgrep runs, leaving no error unhandled (a second Scan for Markers cancels the first)', async () => {
    const root = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`d${i % 9}/f${i}.ts`] = '// DEVIATION_MINOR: x\n';
    write(root, files);
    const unhandled: unknown[] = [];
    const note = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', note);
    try {
      for (const afterMs of [0, 1, 3, 8, 15, 30]) {
        const controller = new AbortController();
        const scan = scanMarkers(root, { rg: RG, signal: controller.signal });
        setTimeout(() => controller.abort(new Error('cancelled by a newer scan')), afterMs);
        await scan.then(
          () => undefined, // finished before the abort: nothing to see in this round
          (e: Error) => assert.match(String(e.message ?? e), /cancelled by a newer scan|aborted/),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      process.off('unhandledRejection', note);
    }
    assert.deepEqual(unhandled.map(String), []);
  });

  describe('files ripgrep names in odd ways', () => {
    const LONG = 'x'.repeat(70_000);
    /** Names and contents that reading ripgrep's output by lines, colons or text would get wrong. */
    const ODD: Record<string, string | Buffer> = {
      '.gitignore': 'ignored/\n',
      'ignored/a.ts': '// DEVIATION_MINOR: in an ignored folder\n',
      'new\nline.ts': 'a\n// DEVIATION_MINOR: a line break in the name\n',
      'a:1:b.ts': '// DEVIATION_MINOR: colons in the name\n',
      'q"uote\\back.ts': '// DEVIATION_MINOR: a quote and a backslash in the name\n',
      'tab\tname ü 日本.ts': '// DEVIATION_MINOR: a tab and letters beyond ASCII\n',
      'crlf.ts': 'x\r\n// DEVIATION_MINOR: crlf\r\n/* FUNDAMENTAL_BREAK: block\r\n ARCHITECTURAL_MISMATCH: continued */\r\n',
      'lonecr.ts': 'a\r// DEVIATION_MINOR: lone cr\rb\r',
      'nonl.ts': 'x\n// DEVIATION_MINOR: last line without a line break',
      'only.ts': '// FUNDAMENTAL_BREAK: the only line',
      'badbytes.ts': Buffer.concat([Buffer.from('// DEVIATION_MINOR: bad \xff\xfe bytes\n', 'latin1'), Buffer.from('// ARCHITECTURAL_MISMATCH: then é\n')]),
      'bom.ts': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('// DEVIATION_MINOR: after a byte order mark\n')]),
      'utf16.ts': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('// DEVIATION_MINOR: UTF-16\n', 'utf16le')]),
      'nul-later.ts': `// DEVIATION_MINOR: a NUL byte far below\n${LONG}\n\0\n`,
      'large.ts': `${LONG}\n// DEVIATION_MINOR: after 70 KB\n${LONG}`,
      'longline.ts': `// DEVIATION_MINOR: ${'y'.repeat(300_000)}\n`,
      'escapes.ts': '// DEVIATION_MINOR: "quoted" \\ back\\slash \t tab \u0001 control \u2028 separator\n',
      'string.js': 'const s = "// DEVIATION_MINOR: only in a string";\n',
      'string-in-block.js': '/*\nconst s = "// DEVIATION_MINOR: in a string in a block";\n*/\n',
      'template.ts': 'const t = `\n// DEVIATION_MINOR: in a template\n`;\n// DEVIATION_MINOR: after the template\n',
      'deep/a/.ignore': 'b/c/\n',
      'deep/a/b/c/d.ts': '-- FUNDAMENTAL_BREAK: ignored by .ignore\n',
      'deep/a/b/x.ts': '; FUNDAMENTAL_BREAK: lisp\n',
    };

    const ODD_EXPECTED = [
      'a:1:b.ts:1:4 minor colons in the name',
      'badbytes.ts:1:4 minor bad \ufffd\ufffd bytes',
      'badbytes.ts:2:4 major then é',
      'bom.ts:1:4 minor after a byte order mark',
      'crlf.ts:2:4 minor crlf',
      'crlf.ts:3:4 fundamental block',
      'crlf.ts:4:2 major continued',
      'deep/a/b/x.ts:1:3 fundamental lisp',
      'escapes.ts:1:4 minor "quoted" \\ back\\slash \t tab \u0001 control \u2028 separator',
      'large.ts:2:4 minor after 70 KB',
      'lonecr.ts:2:4 minor lone cr',
      `longline.ts:1:4 minor ${'y'.repeat(300_000)}`,
      'new\nline.ts:2:4 minor a line break in the name',
      'nonl.ts:2:4 minor last line without a line break',
      'only.ts:1:4 fundamental the only line',
      'q"uote\\back.ts:1:4 minor a quote and a backslash in the name',
      'string-in-block.js:2:15 minor in a string in a block";',
      'tab\tname ü 日本.ts:1:4 minor a tab and letters beyond ASCII',
      'template.ts:4:4 minor after the template',
    ];

    it('ripgrep finds what the Node walk finds, to the removal range', async () => {
      const root = tempDir();
      write(root, ODD);
      const [rg, node] = await Promise.all([scanMarkers(root, { rg: RG }), scanMarkers(root)]);
      assert.equal(rg.engine, 'ripgrep');
      assert.deepEqual(found(rg), ODD_EXPECTED);
      assert.deepEqual(rg.markers, node.markers);
      assert.deepEqual(rg.warnings, []);
    });

    it('ripgrep leaves out a file whose name is not UTF-8, without a warning', async function () {
      if (process.platform !== 'linux') this.skip(); // other file systems refuse such names
      const root = tempDir();
      write(root, { 'a.ts': '// DEVIATION_MINOR: a\n' });
      writeFileSync(Buffer.concat([Buffer.from(`${root}${sep}bad`), Buffer.from([0xff]), Buffer.from('.ts')]), '// DEVIATION_MINOR: bad name\n');
      const r = await scanMarkers(root, { rg: RG });
      assert.deepEqual(found(r), ['a.ts:1:4 minor a']);
      assert.deepEqual(r.warnings, []);
    });

    it('reads each match event as JSON.parse does, however the output is cut into chunks (property)', () => {
      const root = tempDir();
      write(root, ODD);
      if (process.platform === 'linux') writeFileSync(Buffer.concat([Buffer.from(`${root}${sep}bad`), Buffer.from([0xff]), Buffer.from('.ts')]), '// DEVIATION_MINOR: bad name\n');
      const output = execFileSync(RG, ripgrepArgs(), { cwd: root, maxBuffer: 64 * 1024 * 1024 });
      // The reference: every line parsed whole.
      const expected: [string, string | undefined][] = [];
      for (const line of output.toString('utf8').split('\n')) {
        if (!line.startsWith('{"type":"match"')) continue;
        const event = JSON.parse(line) as { data: { path: { text?: string }; lines: { text?: string } } };
        const path = event.data.path.text;
        if (path !== undefined) expected.push([path.slice(2).split(sep).join('/'), event.data.lines.text?.replace(/\r?\n$/, '')]);
      }
      assert.ok(expected.length >= ODD_EXPECTED.length);
      const read = (cuts: number[]) => {
        const got: [string, string | undefined][] = [];
        const reader = new MatchReader((path, line) => got.push([path, line]));
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          reader.push(output.subarray(at, Math.max(at, cut)));
          at = Math.max(at, cut);
        }
        reader.push(output.subarray(at));
        reader.end();
        return got;
      };
      assert.deepEqual(read([]), expected);
      fc.assert(
        fc.property(fc.array(fc.nat({ max: output.length }), { maxLength: 40 }), (cuts) => {
          assert.deepEqual(read(cuts), expected);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('IgnoreTree', () => {
    it('answers for any path, through its folders', async () => {
      const root = tempDir();
      write(root, { '.gitignore': 'node_modules/\n*.tmp\n', 'a/.gitignore': '!keep.tmp\n/local\n' });
      const t = await IgnoreTree.create(root);
      const ask = (rel: string, isDir = false) => t.isIgnored(rel, isDir);
      assert.equal(await ask('node_modules/x/index.js'), true);
      assert.equal(await ask('node_modules', true), true);
      assert.equal(await ask('node_modules'), false, 'a folder-only rule does not match a file');
      assert.equal(await ask('a/b.tmp'), true);
      assert.equal(await ask('a/keep.tmp'), false);
      assert.equal(await ask('a/local/x.ts'), true);
      assert.equal(await ask('b/local/x.ts'), false);
      assert.equal(await ask('.git/config'), true);
      assert.equal(await ask('.symphony/chambers/w/a.ts'), true);
      assert.equal(await ask('src/**/odd[1].ts'), false);
    });
  });
});
