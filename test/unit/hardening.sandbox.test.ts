import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMelody } from '../../src/core/load/melody';
import { executeToolCall } from '../../src/core/tools';
import { run, workspace, type RunJson } from './attack';
import { brief, cli, processesWith, tempDir } from './helpers';
import { nodeRig } from './nodeContext';

/**
 * Issue 9, points 3 and 4, tried as an attacker would: each test runs a real melody
 * through the CLI, with real processes, and shows the attack fails.
 */

/** A `node -e` program that prints its environment as JSON. */
const PRINT_ENV = 'console.log(JSON.stringify(process.env))';

/** A fake `node` in `<root>/bin`: a shell script that leaves evidence it ran. */
function plantNode(root: string): string {
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho planted > "${join(root, 'pwned')}"\necho planted\n`);
  chmodSync(join(bin, 'node'), 0o755);
  return bin;
}

describe('hardening: what programs inherit and where they run', () => {
  describe('3. a node’s env: cannot change which program runs, and programs get a minimal environment', () => {
    it('refuses PATH, LD_PRELOAD, NODE_OPTIONS… in env: at load time, at file:line:col, unless permissions.env lists them', async () => {
      const root = workspace({});
      const bin = plantNode(root);
      writeFileSync(
        join(root, 'attack.melody.yaml'),
        [
          'name: attack',
          'permissions: { commands: [node] }',
          'nodes:',
          '  go:',
          '    uses: shell',
          `    env: { PATH: ${JSON.stringify(bin)} }`,
          '    with:',
          '      command: node',
          '      args: ["-e", "1"]',
          '      env: { LD_PRELOAD: /tmp/evil.so, NODE_OPTIONS: "--require ./evil.js", DYLD_INSERT_LIBRARIES: x }',
          '',
        ].join('\n'),
      );
      const validate = await cli(root, ['validate', 'attack.melody.yaml']);
      assert.equal(validate.code, 1);
      const lines = validate.stdout.split('\n').filter((l) => l.startsWith('attack.melody.yaml:'));
      assert.deepEqual(
        lines.map((l) => l.replace(/: node `go` .*/, '')),
        ['attack.melody.yaml:6:12', 'attack.melody.yaml:10:14', 'attack.melody.yaml:10:40', 'attack.melody.yaml:10:77'],
      );
      assert.match(lines[0]!, /node `go` sets PATH in env:, which decides which program runs or what it loads; list it in `permissions.env` to allow it/);
      const r = await cli(root, ['run', 'attack.melody.yaml', '--json'], { env: { PATH: process.env.PATH } });
      assert.notEqual(r.code, 0);
      assert.equal(existsSync(join(root, 'pwned')), false, 'the planted node never ran');
    });

    it('runs the program Symphony’s own PATH names, even when permissions.env lets the node set PATH', async () => {
      const root = workspace({});
      const bin = plantNode(root);
      writeFileSync(
        join(root, 'attack.melody.yaml'),
        [
          'name: attack',
          'permissions: { commands: [node], env: [PATH] }',
          'nodes:',
          '  go:',
          '    uses: shell',
          `    env: { PATH: ${JSON.stringify(bin)} }`,
          `    with: { command: node, args: ["-e", "console.log('real node', process.env.PATH)"] }`,
          '',
        ].join('\n'),
      );
      const r = await run(root, 'attack.melody.yaml');
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      assert.equal((r.nodes.go!.output as { stdout: string }).stdout, `real node ${bin}\n`, 'the real node ran, and it sees the PATH the melody set');
      assert.equal(existsSync(join(root, 'pwned')), false, 'the planted node never ran');
    });

    it('gives programs PATH, HOME, LANG… and what the node names — not the secrets of the environment Symphony started in', async () => {
      const root = workspace({
        'env.melody.yaml': [
          'name: env',
          'permissions: { commands: [node] }',
          'nodes:',
          `  plain: { uses: shell, with: { command: node, args: ["-e", ${JSON.stringify(PRINT_ENV)}] } }`,
          '  named:',
          '    uses: shell',
          '    env: { TOKEN: "${{ secrets.DEPLOY_TOKEN }}" }',
          `    with: { command: node, args: ["-e", ${JSON.stringify(PRINT_ENV)}], env: { GREETING: hi } }`,
          '',
        ].join('\n'),
      });
      const r = await run(root, 'env.melody.yaml', {
        HOME: root,
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        AWS_SECRET_ACCESS_KEY: 'aws-secret-0123456789',
        DEPLOY_TOKEN: 'tok-0123456789',
        GITHUB_TOKEN: 'ghp-0123456789',
      });
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      const plain = JSON.parse((r.nodes.plain!.output as { stdout: string }).stdout) as Record<string, string>;
      assert.equal(plain.PATH, process.env.PATH);
      assert.equal(plain.HOME, root);
      assert.equal(plain.LANG, 'C.UTF-8');
      assert.equal(plain.LC_ALL, 'C.UTF-8');
      for (const secret of ['AWS_SECRET_ACCESS_KEY', 'DEPLOY_TOKEN', 'GITHUB_TOKEN', 'TOKEN']) assert.equal(plain[secret], undefined, `${secret} reached a program that did not name it`);
      // The journal redacts secrets in outputs; what the program saw is that TOKEN was set.
      const named = JSON.parse((r.nodes.named!.output as { stdout: string }).stdout) as Record<string, string>;
      assert.ok(named.TOKEN, 'a secret the node passes explicitly reaches its program');
      assert.equal(named.GREETING, 'hi');
      assert.equal(named.DEPLOY_TOKEN, undefined);
    });
  });
  describe('4. programs run in an OS sandbox: the workspace read-only but for the write scopes, /tmp private, no network unless named', () => {
    /**
     * A `node -e` program that tries each of `attempts` (name → code that throws on
     * failure) and prints `{ name: "ok" | error code }`.
     */
    const TRY = (attempts: Record<string, string>) =>
      `const r = {}; ${Object.entries(attempts)
        .map(([name, code]) => `try { ${code}; r[${JSON.stringify(name)}] = 'ok' } catch (e) { r[${JSON.stringify(name)}] = e.code || e.message }`)
        .join('; ')}; console.log(JSON.stringify(r))`;
    const stdoutJson = (r: RunJson, id: string) => JSON.parse((r.nodes[id]!.output as { stdout: string }).stdout) as Record<string, string>;
    const shell = (id: string, script: string, extra = '') => `  ${id}: { uses: shell${extra}, with: { command: node, args: ["-e", ${JSON.stringify(script)}] } }`;

    it('keeps `node -e` from writing /tmp and sheetMusic.md under write: [] — and lets it write what write: allows', async () => {
      const leak = join(tmpdir(), `symphony-leak-${process.pid}-${Date.now()}`);
      const write = (path: string) => `require('fs').writeFileSync(${JSON.stringify(path)}, 'pwned')`;
      const root = workspace({
        'src/app.js': 'ok\n',
        'readonly.melody.yaml': ['name: readonly', 'permissions: { commands: [node], fs: { write: [] } }', 'nodes:', shell('go', TRY({ tmp: write(leak), sheet: write('sheetMusic.md'), src: write('src/app.js') })), ''].join('\n'),
        'scoped.melody.yaml': ['name: scoped', 'permissions: { commands: [node], fs: { write: ["out/**"] } }', 'nodes:', shell('go', TRY({ out: write('out/report.txt'), src: write('src/app.js'), sheet: write('sheetMusic.md') })), ''].join('\n'),
      });
      const readonly = await run(root, 'readonly.melody.yaml');
      assert.equal(readonly.status, 'success', JSON.stringify(readonly.nodes));
      assert.deepEqual(stdoutJson(readonly, 'go'), { tmp: 'ok', sheet: 'EROFS', src: 'EROFS' }, '/tmp is writable — a private one');
      assert.equal(existsSync(leak), false, 'nothing reached the real /tmp');
      assert.equal(readFileSync(join(root, 'sheetMusic.md'), 'utf8'), '# attack\n');
      assert.equal(readFileSync(join(root, 'src/app.js'), 'utf8'), 'ok\n');

      const scoped = await run(root, 'scoped.melody.yaml');
      assert.deepEqual(stdoutJson(scoped, 'go'), { out: 'ok', src: 'EROFS', sheet: 'EROFS' });
      assert.equal(readFileSync(join(root, 'out/report.txt'), 'utf8'), 'pwned');
    });

    it('keeps git internals, melodies, instruments and editor settings read-only under write: ["**"], and refuses the ones a program creates', async () => {
      const root = workspace({
        '.git/config': '[core]\n',
        'vendor/lib/.git/HEAD': 'ref: refs/heads/main\n',
        '.vscode/settings.json': '{}\n',
        'ensembles/core/reviewer.yaml': 'nickname: Oboe\n',
        'other.melody.yaml': 'name: other\nnodes: {}\n',
        'src/app.js': 'ok\n',
      });
      const append = (path: string) => `require('fs').appendFileSync(${JSON.stringify(path)}, 'pwned')`;
      const targets = ['.git/config', 'vendor/lib/.git/HEAD', '.vscode/settings.json', 'ensembles/core/reviewer.yaml', 'other.melody.yaml'];
      const attempts: Record<string, string> = Object.fromEntries(targets.map((t) => [t, append(t)]));
      attempts['src/app.js'] = append('src/app.js');
      writeFileSync(
        join(root, 'broad.melody.yaml'),
        [
          'name: broad',
          'permissions: { commands: [node], fs: { write: ["**"] } }',
          'nodes:',
          shell('existing', TRY(attempts)),
          shell('creates', "const fs = require('fs'); fs.mkdirSync('src/sub/.git/hooks', { recursive: true }); fs.writeFileSync('src/sub/.git/hooks/pre-commit', 'pwned'); fs.writeFileSync('src/evil.melody.yaml', 'name: evil'); fs.writeFileSync('src/fine.txt', 'fine')", ', needs: existing'),
          '',
        ].join('\n'),
      );
      const r = await run(root, 'broad.melody.yaml');
      const existing = stdoutJson(r, 'existing');
      for (const t of targets) assert.equal(existing[t], 'EROFS', t);
      assert.equal(existing['src/app.js'], 'ok');
      for (const t of targets) assert.doesNotMatch(readFileSync(join(root, t), 'utf8'), /pwned/, t);

      assert.equal(r.nodes.creates!.status, 'failure');
      assert.match(r.nodes.creates!.error!, /^node created src\/evil\.melody\.yaml, src\/sub\/\.git, which no node may write \(.*\); Symphony renamed them to src\/evil\.melody\.yaml\.refused, src\/sub\/\.git\.refused/);
      assert.equal(existsSync(join(root, 'src/evil.melody.yaml')), false);
      assert.equal(existsSync(join(root, 'src/sub/.git')), false);
      assert.equal(readFileSync(join(root, 'src/evil.melody.yaml.refused'), 'utf8'), 'name: evil');
      assert.equal(readFileSync(join(root, 'src/fine.txt'), 'utf8'), 'fine');
    });

    it('refuses a melody a program creates while other nodes start and end beside it, and keeps the existing ones read-only for them all', async () => {
      // The nodes of a level share the walks that find never-writable paths: none of them
      // may miss a melody that exists when it starts, nor one its program created.
      const root = workspace({ 'other.melody.yaml': 'name: other\nnodes: {}\n', 'src/app.js': 'ok\n' });
      const tamper = (n: number) => `setTimeout(() => { ${TRY({ other: "require('fs').appendFileSync('other.melody.yaml', 'pwned')", src: `require('fs').writeFileSync('src/fine${n}.txt', 'fine')` })} }, ${n * 40})`;
      const siblings = [1, 2, 3, 4, 5, 6].map((n) => shell(`s${n}`, tamper(n)));
      writeFileSync(
        join(root, 'level.melody.yaml'),
        ['name: level', 'permissions: { commands: [node], fs: { write: ["**"] } }', 'nodes:', ...siblings, shell('creates', "require('fs').writeFileSync('src/evil.melody.yaml', 'name: evil'); setTimeout(() => {}, 150)"), ''].join('\n'),
      );
      const r = await run(root, 'level.melody.yaml');
      assert.equal(r.status, 'failure');
      for (let n = 1; n <= 6; n++) {
        if (r.nodes[`s${n}`]!.status !== 'success') continue; // The node blamed for the melody, when its check saw it first.
        assert.deepEqual(stdoutJson(r, `s${n}`), { other: 'EROFS', src: 'ok' }, `s${n}`);
      }
      const blamed = Object.values(r.nodes).filter((n) => /created src\/evil\.melody\.yaml, which no node may write/.test(n.error ?? ''));
      assert.ok(blamed.length >= 1, JSON.stringify(r.nodes));
      assert.equal(existsSync(join(root, 'src/evil.melody.yaml')), false, 'the melody a program created was renamed');
      assert.equal(readFileSync(join(root, 'src/evil.melody.yaml.refused'), 'utf8'), 'name: evil');
      assert.equal(readFileSync(join(root, 'other.melody.yaml'), 'utf8'), 'name: other\nnodes: {}\n');
    });

    it('keeps a sub-melody in its caller’s sandbox: it cannot turn the sandbox off, widen the write scopes or open the network', async () => {
      const write = (path: string) => `require('fs').writeFileSync(${JSON.stringify(path)}, 'x')`;
      const root = workspace({
        'child.melody.yaml': [
          'name: child',
          'permissions: { commands: [node], sandbox: off, network: ["*"], fs: { write: ["**"] } }',
          'nodes:',
          shell('go', TRY({ out: write('out/a.txt'), src: write('src.txt'), tmp: write(join(tmpdir(), `symphony-child-${process.pid}`)), net: "if (Object.keys(require('os').networkInterfaces()).some((n) => n !== 'lo')) throw new Error('the machine’s network')" })),
          '',
        ].join('\n'),
        'parent.melody.yaml': ['name: parent', 'permissions: { commands: [node], fs: { write: ["out/**"] } }', 'nodes:', '  call: { uses: melody, with: { melody: child.melody.yaml } }', ''].join('\n'),
      });
      const r = await run(root, 'parent.melody.yaml');
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      const go = (r.nodes.call!.output as Record<string, { stdout: string }>).go!;
      assert.deepEqual(JSON.parse(go.stdout), { out: 'ok', src: 'EROFS', tmp: 'ok', net: 'ok' }, 'a loopback of its own, and nothing else');
      assert.equal(existsSync(join(tmpdir(), `symphony-child-${process.pid}`)), false, 'its /tmp was still private');
    });

    describe('the network', () => {
      let server: Server;
      let port: number;
      before(async () => {
        server = createServer((req, res) => res.end(`hello from the host: ${req.url}`));
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        port = (server.address() as AddressInfo).port;
      });
      after(() => new Promise<void>((r) => server.close(() => r())));

      /** Resolves with what a request answered, or the error's code. */
      const REQUEST = `const http = require('http');
        const ask = (options) => new Promise((done) => {
          const req = http.request({ timeout: 3000, ...options }, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => done(res.statusCode + ' ' + b)); });
          req.on('connect', (res, socket) => { if (res.statusCode !== 200) { done(String(res.statusCode)); socket.destroy(); return; } socket.write('GET /tunnel HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'); let b = ''; socket.on('data', (d) => (b += d)); socket.on('end', () => done('tunnel ' + b.split('\\r\\n\\r\\n')[1])); });
          req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
          req.on('error', (e) => done(e.code || e.message));
          req.end();
        });`;

      function netMelody(network: string): string {
        const proxy = "new URL(process.env.HTTP_PROXY || 'http://127.0.0.1:1')";
        const script = `${REQUEST}
          (async () => {
            const p = ${proxy};
            const out = {
              direct: await ask({ host: '127.0.0.1', port: PORT, path: '/direct' }),
              proxied: await ask({ host: p.hostname, port: p.port, path: 'http://127.0.0.1:PORT/proxied' }),
              connect: await ask({ host: p.hostname, port: p.port, method: 'CONNECT', path: '127.0.0.1:PORT' }),
              refused: await ask({ host: p.hostname, port: p.port, path: 'http://localhost:PORT/other' }),
            };
            console.log(JSON.stringify(out));
          })();`.replace(/PORT/g, String(port));
        return ['name: net', `permissions: { commands: [node]${network} }`, 'nodes:', `  go: { uses: shell, with: { command: node, args: ["-e", ${JSON.stringify(script)}] } }`, ''].join('\n');
      }

      it('reaches nothing, not even the host’s loopback, when permissions.network names no host', async () => {
        const root = workspace({ 'net.melody.yaml': netMelody('') });
        const out = stdoutJson(await run(root, 'net.melody.yaml'), 'go');
        assert.equal(out.direct, 'ECONNREFUSED', 'the sandbox has a loopback of its own');
        assert.equal(out.proxied, 'ECONNREFUSED', 'and no proxy');
      });

      it('reaches only the named hosts, through Symphony’s proxy — a program that ignores HTTP_PROXY reaches nothing', async () => {
        const root = workspace({ 'net.melody.yaml': netMelody(', network: ["127.0.0.1"]') });
        const r = await run(root, 'net.melody.yaml');
        const out = stdoutJson(r, 'go');
        assert.equal(out.direct, 'ECONNREFUSED');
        assert.equal(out.proxied, '200 hello from the host: /proxied');
        assert.equal(out.connect, 'tunnel hello from the host: /tunnel');
        assert.equal(out.refused, '403 permissions.network does not allow localhost:' + port + ' (allowed: 127.0.0.1)');
      });
    });

    it('hides the home folder and keeps /tmp private to each program', async () => {
      const home = mkdtempSync(join(homedir(), '.symphony-test-home-'));
      after(() => rmSync(home, { recursive: true, force: true }));
      writeFileSync(join(home, 'id_rsa'), 'PRIVATE KEY');
      const root = workspace({
        'home.melody.yaml': [
          'name: home',
          'permissions: { commands: [node] }',
          'nodes:',
          shell('read', TRY({ key: `require('fs').readFileSync(${JSON.stringify(join(home, 'id_rsa'))})`, tmp: "require('fs').writeFileSync('/tmp/left-behind', 'x')" })),
          shell('next', TRY({ tmp: "require('fs').readFileSync('/tmp/left-behind')" }), ', needs: read'),
          '',
        ].join('\n'),
      });
      const r = await run(root, 'home.melody.yaml', { HOME: homedir() });
      assert.deepEqual(stdoutJson(r, 'read'), { key: 'ENOENT', tmp: 'ok' });
      assert.deepEqual(stdoutJson(r, 'next'), { tmp: 'ENOENT' }, 'each program has a /tmp of its own');
    });

    it('ends a program’s daemon with its node’s sandbox: it cannot write a melody after Symphony checked what the node created', async () => {
      // The attack a sandbox shared by nodes (one per permission profile, say) would let
      // through: the daemon leaves the program's process group, so only the end of the
      // node's own sandbox (its pid namespace) stops it before its late write.
      const marker = `symphony-daemon-${randomUUID()}`;
      const daemon = `setTimeout(() => require('fs').writeFileSync('src/late.melody.yaml', 'name: late'), 300); setInterval(() => {}, 1000)`;
      const leave = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(daemon)}, ${JSON.stringify(marker)}], { detached: true, stdio: 'ignore' }).on('spawn', () => process.exit(0))`;
      const root = workspace({
        'src/app.js': 'ok\n',
        'linger.melody.yaml': [
          'name: linger',
          'permissions: { commands: [node], fs: { write: ["**"] } }',
          'nodes:',
          shell('leave', leave),
          // Long enough for the daemon's write, were it alive; a node of the same permissions.
          shell('after', 'setTimeout(() => {}, 2500)', ', needs: leave'),
          '',
        ].join('\n'),
      });
      const r = await run(root, 'linger.melody.yaml');
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      assert.deepEqual(processesWith(marker), [], 'the daemon did not outlive its node');
      assert.equal(existsSync(join(root, 'src/late.melody.yaml')), false, 'nothing wrote a melody after the node ended');
    });

    it('runs script instruments and the agents’ run tool in the sandbox too', async () => {
      const root = workspace({
        'ensembles/tools/ensemble.yaml': 'name: Tools\n',
        'ensembles/tools/writer.yaml': 'nickname: Quill\nkind: script\nscript: { command: node, args: [writer.js] }\n',
        'writer.js': "try { require('fs').writeFileSync('sheetMusic.md', 'pwned'); console.log('wrote') } catch (e) { console.log(e.code) }\n",
        'script.melody.yaml': ['name: script', 'permissions: { commands: [node], fs: { write: ["out/**"] } }', 'nodes:', '  ask: { uses: instrument, instrument: tools/writer, with: { prompt: hi } }', ''].join('\n'),
      });
      const r = await run(root, 'script.melody.yaml');
      assert.equal(r.nodes.ask!.output, 'EROFS');
      assert.equal(readFileSync(join(root, 'sheetMusic.md'), 'utf8'), '# attack\n');

      const rig = nodeRig({ permissions: { commands: ['node'], fs: { write: ['out/**'] } } });
      writeFileSync(join(rig.root, 'sheetMusic.md'), 'mine\n');
      const call = await executeToolCall(rig.ctx, ['run'], { id: 'c1', name: 'run', input: { command: 'node', args: ['-e', TRY({ sheet: "require('fs').writeFileSync('sheetMusic.md', 'pwned')" })] } });
      assert.match(call.result.output, /^exit code 0\n--- stdout ---\n\{"sheet":"EROFS"\}/);
      assert.equal(readFileSync(join(rig.root, 'sheetMusic.md'), 'utf8'), 'mine\n');
    });

    it('fails the node, naming the package to install, when bubblewrap is missing — unless the melody says permissions.sandbox: off', async () => {
      const bin = tempDir('symphony-nobwrap-');
      symlinkSync(process.execPath, join(bin, 'node'));
      const root = workspace({
        'sandboxed.melody.yaml': ['name: sandboxed', 'permissions: { commands: [node] }', 'nodes:', shell('go', "console.log('ran')"), ''].join('\n'),
        'off.melody.yaml': ['name: off', 'permissions: { commands: [node], sandbox: off, fs: { write: [] } }', 'nodes:', shell('go', TRY({ sheet: "require('fs').appendFileSync('sheetMusic.md', '')" })), ''].join('\n'),
      });
      const sandboxed = await run(root, 'sandboxed.melody.yaml', { PATH: bin });
      assert.equal(sandboxed.nodes.go!.status, 'failure');
      assert.match(sandboxed.nodes.go!.error!, /^node cannot run: programs run in a bubblewrap sandbox on Linux and bwrap is not installed — install it \(Debian, Ubuntu: apt-get install bubblewrap/);
      assert.match(sandboxed.nodes.go!.error!, /or set permissions\.sandbox: off/);

      const off = await run(root, 'off.melody.yaml', { PATH: bin });
      assert.equal(off.status, 'success', JSON.stringify(off.nodes));
      assert.deepEqual(stdoutJson(off, 'go'), { sheet: 'ok' }, 'unsandboxed, a program can write what the guard would refuse');
      const journal = readFileSync(join(root, '.symphony', 'runs', off.runId, 'journal.jsonl'), 'utf8');
      assert.match(journal, /node runs unsandboxed \(permissions\.sandbox: off\)/);
    });

    it('says at load time that Windows has no sandbox, unless the melody opts out', () => {
      const text = (extra: string) => `name: w\npermissions: { commands: [node]${extra} }\nnodes:\n  go: { uses: shell, with: { command: node } }\n`;
      const windows = loadMelody(text(''), 'w.melody.yaml', { platform: 'win32' });
      assert.equal(windows.ok, false);
      assert.deepEqual(brief(windows.ok ? [] : windows.error), [
        '2:16 sandbox Windows has no sandbox for the programs this melody runs: add `sandbox: off` to its permissions to run them unsandboxed, with all of your rights',
      ]);
      assert.equal(loadMelody(text(', sandbox: off'), 'w.melody.yaml', { platform: 'win32' }).ok, true);
      assert.equal(loadMelody(text(''), 'w.melody.yaml', { platform: 'linux' }).ok, true);
    });
  });
});
