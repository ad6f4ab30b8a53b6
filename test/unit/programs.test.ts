import * as assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnvironment, isGuardedVariable } from '../../src/core/programs/environment';
import { ProgramLookups, resolveProgram } from '../../src/core/programs/resolve';
import { bwrapArguments, installationOf, seatbeltProfile, type SandboxPlan } from '../../src/core/programs/sandbox';
import { intersectScopes, protectedPaths, ProtectedWalks, refuseCreated, writableBases } from '../../src/core/programs/scopes';
import { scratchDir } from './nodeContext';

describe('programs: the environment and where programs are found', () => {
  it('passes PATH, HOME, LANG, LC_*, the temporary folder, TERM and USER on — nothing else', () => {
    const start = { PATH: '/bin', HOME: '/h', LANG: 'C', LC_ALL: 'C', TMPDIR: '/t', TERM: 'xterm', USER: 'u', GITHUB_TOKEN: 'x', AWS_SECRET_ACCESS_KEY: 'y', SystemRoot: 'C:\\Windows' };
    assert.deepEqual(baseEnvironment(start, 'linux'), { PATH: '/bin', HOME: '/h', LANG: 'C', LC_ALL: 'C', TMPDIR: '/t', TERM: 'xterm', USER: 'u' });
    // Windows: names without case, and what programs there cannot start without.
    assert.deepEqual(baseEnvironment({ Path: 'C:\\bin', SYSTEMROOT: 'C:\\Windows', ComSpec: 'cmd.exe', GITHUB_TOKEN: 'x' }, 'win32'), { Path: 'C:\\bin', SYSTEMROOT: 'C:\\Windows', ComSpec: 'cmd.exe' });
  });

  it('guards the variables that decide which program runs or what it loads, whatever their case', () => {
    for (const name of ['PATH', 'Path', 'PATHEXT', 'ComSpec', 'NODE_OPTIONS', 'BASH_ENV', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES']) assert.equal(isGuardedVariable(name), true, name);
    for (const name of ['HOME', 'CI', 'NODE_ENV', 'TOKEN', 'OLD_PATH']) assert.equal(isGuardedVariable(name), false, name);
  });

  it('finds a bare name on absolute PATH entries only; a name with a slash in the working folder', async () => {
    const root = realpathSync(scratchDir());
    for (const dir of ['bin', 'cwd/bin']) {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'tool'), '#!/bin/sh\n');
      chmodSync(join(root, dir, 'tool'), 0o755);
    }
    writeFileSync(join(root, 'bin', 'plain'), 'not executable');
    const cwd = join(root, 'cwd');
    const search = (path: string | undefined) => ({ path, platform: 'linux' as const });
    assert.equal(await resolveProgram('tool', cwd, search(`/nonexistent:${join(root, 'bin')}`)), join(root, 'bin', 'tool'));
    // An empty or relative entry would be the working folder — the workspace, where a melody plants files.
    assert.equal(await resolveProgram('tool', cwd, search(':bin:./bin')), undefined);
    assert.equal(await resolveProgram('plain', cwd, search(join(root, 'bin'))), undefined, 'a file that is not executable is not a program');
    assert.equal(await resolveProgram('./bin/tool', cwd, search(undefined)), join(cwd, 'bin', 'tool'));
    assert.match((await resolveProgram('sh', cwd, search(undefined)))!, /^\/(usr\/)?bin\/sh$/, 'no PATH: /usr/bin:/bin, as execvp');
  });

  it('looks a bare name up once per run, a miss and a path with a slash every time', async () => {
    const root = realpathSync(scratchDir());
    const [first, second, cwd] = [join(root, 'first'), join(root, 'second'), join(root, 'cwd')];
    for (const dir of [first, second, join(cwd, 'bin')]) mkdirSync(dir, { recursive: true });
    const search = { path: `${first}:${second}`, platform: 'linux' as const };
    const lookups = new ProgramLookups();
    assert.equal(await lookups.resolve('tool', cwd, search), undefined);
    // A program a node installs is found by the nodes after it: a miss is not remembered.
    writeFileSync(join(second, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(await lookups.resolve('tool', cwd, search), join(second, 'tool'));
    // Found once, kept for the run — a fresh run looks again.
    writeFileSync(join(first, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(await lookups.resolve('tool', cwd, search), join(second, 'tool'));
    assert.equal(await new ProgramLookups().resolve('tool', cwd, search), join(first, 'tool'));
    // Another PATH is another lookup.
    assert.equal(await lookups.resolve('tool', cwd, { ...search, path: second }), join(second, 'tool'));
    // A path with a slash is the node's working folder's: never kept.
    assert.equal(await lookups.resolve('./bin/tool', cwd, search), undefined);
    writeFileSync(join(cwd, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(await lookups.resolve('./bin/tool', cwd, search), join(cwd, 'bin', 'tool'));
  });

  describe('the sandbox', () => {
    const plan: SandboxPlan = {
      workspace: '/home/u/ws',
      writable: ['/home/u/ws/out'],
      readOnly: ['/home/u/ws/out/.git'],
      hidden: ['/home/u'],
      shown: ['/home/u/.nvm/versions/node/v20'],
      network: { kind: 'none' },
      cwd: '/home/u/ws/pkg',
    };

    it('gives bubblewrap the machine read-only, the write scopes, then the never-writable paths read-only again — in that order', () => {
      assert.deepEqual(bwrapArguments(plan), [
        '--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--cap-drop', 'ALL',
        '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run',
        '--tmpfs', '/home/u',
        '--ro-bind-try', '/home/u/.nvm/versions/node/v20', '/home/u/.nvm/versions/node/v20',
        '--ro-bind', '/home/u/ws', '/home/u/ws',
        '--bind', '/home/u/ws/out', '/home/u/ws/out',
        '--ro-bind-try', '/home/u/ws/out/.git', '/home/u/ws/out/.git',
        '--chdir', '/home/u/ws/pkg', '--',
      ]);
      const proxied = bwrapArguments({ ...plan, network: { kind: 'proxy', socket: '/tmp/symphony-proxy-x/proxy.sock' } });
      assert.deepEqual(proxied.slice(-6), ['--bind', '/tmp/symphony-proxy-x/proxy.sock', '/tmp/.symphony-proxy.sock', '--chdir', '/home/u/ws/pkg', '--']);
      assert.ok(proxied.includes('--unshare-net'), 'behind the proxy the network is still unshared');
      const all = bwrapArguments({ ...plan, network: { kind: 'all' } });
      assert.ok(!all.includes('--unshare-net') && all.includes('/run/systemd/resolve'), 'network: ["*"] shares the machine’s network and its resolver');
    });

    it('shows an installation under a hidden folder whole: a bin folder brings its parent, unless that is the hidden folder', () => {
      assert.equal(installationOf('/home/u/.nvm/versions/node/v20/bin', ['/home/u']), '/home/u/.nvm/versions/node/v20');
      assert.equal(installationOf('/home/u/bin', ['/home/u']), '/home/u/bin');
      assert.equal(installationOf('/tmp/tools', ['/tmp']), '/tmp/tools');
    });

    it('writes a Seatbelt profile with the same policy (untested on macOS here: only its text is checked)', () => {
      const profile = seatbeltProfile(plan, { tmp: '/private/var/folders/x/T/symphony-program-1', proxyPort: 4321, loopback: false });
      assert.match(profile, /^\(version 1\)\n\(allow default\)\n\(deny file-write\*\)\n/);
      assert.match(profile, /\(allow file-write\* \(subpath "\/home\/u\/ws\/out"\) \(subpath "\/private\/var\/folders\/x\/T\/symphony-program-1"\)/);
      assert.match(profile, /\(deny file-write\* \(subpath "\/home\/u\/ws\/out\/\.git"\)\)/);
      assert.match(profile, /\(deny file-read\* \(subpath "\/home\/u"\)\)\n\(allow file-read\* \(subpath "\/home\/u\/ws"\)/);
      assert.match(profile, /\(deny network\*\)\n.*\n\(allow network-outbound \(remote ip "localhost:4321"\)\)\n$/);
    });

    it('binds the static part of each write glob, created when missing, intersected with the callers’', async () => {
      const root = realpathSync(scratchDir());
      mkdirSync(join(root, 'src'));
      writeFileSync(join(root, 'notes.md'), '');
      const never = (rel: string) => rel.startsWith('.vscode');
      assert.deepEqual(await writableBases(root, ['src/**/*.ts', 'out/**', 'notes.md', 'docs/api.md', '.vscode/**', '../outside/**'], never), [
        join(root, 'src'),
        join(root, 'out'),
        join(root, 'notes.md'),
        join(root, 'docs'),
      ]);
      assert.equal(existsSync(join(root, 'out')), true, 'a glob over a missing folder creates it rather than widening to the workspace');
      assert.equal(existsSync(join(root, '.vscode')), false, 'a never-writable folder is not created (nor bound: there is nothing to bind)');
      assert.deepEqual(await writableBases(root, ['**', 'src/**'], never), [root]);
      assert.deepEqual(await writableBases(root, ['!secret/**'], never), [root], 'a negated glob allows nearly everything');
      assert.deepEqual(intersectScopes(['/w'], ['/w/out', '/w/src']), ['/w/out', '/w/src']);
      assert.deepEqual(intersectScopes(['/w/out/a', '/w/src'], ['/w/out']), ['/w/out/a']);
      assert.deepEqual(intersectScopes(['/w/out'], ['/w/outside']), []);
    });

    it('finds the never-writable paths in the write scopes: a protected folder once, unwalked; skipped folders not at all', async () => {
      const root = realpathSync(scratchDir());
      for (const dir of ['src/a/.git/hooks', '.vscode', 'node_modules/x', 'src/b']) mkdirSync(join(root, dir), { recursive: true });
      for (const file of ['src/a/.git/hooks/pre-commit', '.vscode/tasks.json', 'node_modules/x/y.melody.yaml', 'src/b/z.melody.yaml', 'src/b/fine.ts', 'top.melody.yaml']) writeFileSync(join(root, file), '');
      const rules = new Map([['**/.git', 'git'], ['**/*.melody.yaml', 'melody'], ['.vscode/**', 'editor']].map(([glob, why]) => [why!, { globs: [glob!], why: why!, executes: true }]));
      const asked: string[] = [];
      const never = (rel: string) => {
        asked.push(rel);
        if (/(^|\/)\.git$/.test(rel)) return rules.get('git');
        if (rel.endsWith('.melody.yaml')) return rules.get('melody');
        return rel.startsWith('.vscode/') ? rules.get('editor') : undefined;
      };
      const found = await protectedPaths(root, [root], never);
      assert.deepEqual(found.map((p) => [p.rel, p.rule.why, p.abs]).sort(), [
        ['.vscode', 'editor', join(root, '.vscode')],
        ['src/a/.git', 'git', join(root, 'src/a/.git')],
        ['src/b/z.melody.yaml', 'melody', join(root, 'src/b/z.melody.yaml')],
        ['top.melody.yaml', 'melody', join(root, 'top.melody.yaml')],
      ]);
      assert.equal(asked.filter((rel) => rel.includes('.git/') || rel.startsWith('.vscode/t') || rel.startsWith('node_modules')).length, 0, 'nothing inside a protected or skipped folder is looked at');
      assert.deepEqual((await protectedPaths(root, [join(root, 'src/b')], never)).map((p) => p.rel), ['src/b/z.melody.yaml'], 'a scope inside the workspace: paths stay workspace-relative');
    });

    it('renames a created never-writable path once when two nodes’ checks find it together', async () => {
      const root = realpathSync(scratchDir());
      writeFileSync(join(root, 'evil.melody.yaml'), 'name: evil');
      const path = { rel: 'evil.melody.yaml', abs: join(root, 'evil.melody.yaml'), rule: { globs: ['**/*.melody.yaml'], why: 'melody', executes: true } };
      const [a, b] = await Promise.all([refuseCreated(root, [path]), refuseCreated(root, [path])]);
      assert.deepEqual([...a, ...b].map((r) => r.renamed), ['evil.melody.yaml.refused'], 'one of them renamed it; the other found it gone');
      assert.equal(existsSync(join(root, 'evil.melody.yaml')), false);
      assert.equal(readFileSync(join(root, 'evil.melody.yaml.refused'), 'utf8'), 'name: evil');
    });

    it('walks once for callers that ask together, and never hands a caller a walk that began before it asked', async () => {
      const root = realpathSync(scratchDir());
      mkdirSync(join(root, 'src'));
      writeFileSync(join(root, 'src/a.txt'), '');
      const melody = { globs: ['**/*.melody.yaml'], why: 'melody', executes: true };
      let walks = 0;
      let late: Promise<{ rel: string }[]> | undefined;
      const walker: ProtectedWalks = new ProtectedWalks((rel) => {
        if (rel === 'src') walks++;
        // During a walk, once it has read src: a melody appears there, and a caller asks.
        if (rel === 'src/a.txt' && walks === 2 && !late) {
          writeFileSync(join(root, 'src/new.melody.yaml'), '');
          late = walker.find(root, [root]);
        }
        return rel.endsWith('.melody.yaml') ? melody : undefined;
      });
      const together = await Promise.all([walker.find(root, [root]), walker.find(root, [root]), walker.find(root, [root])]);
      assert.equal(walks, 1, 'one walk for the three');
      assert.deepEqual(together, [[], [], []]);
      const during = await walker.find(root, [root]);
      assert.deepEqual(during, [], 'the walk that was under way had read src before the melody appeared');
      assert.ok(late);
      assert.deepEqual((await late).map((p) => p.rel), ['src/new.melody.yaml'], 'the caller who asked after it appeared finds it');
      assert.equal(walks, 3);
    });
  });
});
