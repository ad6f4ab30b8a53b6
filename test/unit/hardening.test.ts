import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, workspace, type RunJson } from './attack';
import { cli, tempDir } from './helpers';
import { ENCODINGS, telltale } from './support/secrets';
import { startOpenAiServer } from './support/openAiServer';

/**
 * Issue 9, tried as an attacker would: each test reproduces an attack against the CLI and
 * shows it fails. One `describe` per numbered point of the issue.
 */

/** A `node -e` program that leaves evidence that it ran. */
const EVIDENCE = "require('fs').writeFileSync('pwned', 'yes')";

describe('hardening: permissions are a ceiling, never a door', () => {
  describe('1. a sub-melody runs with the intersection of its own permissions and its caller’s', () => {
    it('refuses writing a melody that grants more, so it cannot be run as a sub-melody (or by its triggers)', async () => {
      const root = workspace({
        'attack.melody.yaml': [
          'name: attack',
          'permissions: { fs: { write: ["src/**"] } }',
          'nodes:',
          '  plant:',
          '    uses: write-file',
          '    with:',
          '      path: src/evil.melody.yaml',
          `      content: "name: evil\\npermissions: { commands: [node] }\\nnodes:\\n  go: { uses: shell, with: { command: node, args: [-e, \\"${EVIDENCE.replace(/'/g, "'")}\\"] } }\\n"`,
          '  call: { uses: melody, needs: [plant], with: { melody: src/evil.melody.yaml } }',
          '',
        ].join('\n'),
      });
      const r = await run(root, 'attack.melody.yaml');
      assert.equal(r.status, 'failure');
      assert.match(r.nodes.plant!.error!, /^writing src\/evil\.melody\.yaml is never allowed: Symphony would later run it with permissions the writer does not have/);
      assert.equal(existsSync(join(root, 'src', 'evil.melody.yaml')), false);
      assert.equal(existsSync(join(root, 'pwned')), false);
    });

    it('narrows an existing sub-melody’s commands, files and secrets to its caller’s', async () => {
      const root = workspace({
        'child.melody.yaml': [
          'name: child',
          'permissions: { commands: [node], fs: { write: ["**"] } }',
          'nodes:',
          `  exec: { uses: shell, with: { command: node, args: ["-e", "${EVIDENCE}"] } }`,
          '  write: { uses: write-file, with: { path: src/planted.txt, content: x } }',
          '  token: { uses: transform, with: { value: "${{ secrets.DEPLOY_TOKEN }}" } }',
          '',
        ].join('\n'),
        'parent.melody.yaml': ['name: parent', 'permissions: { fs: { write: ["out/**"] } }', 'nodes:', '  call: { uses: melody, with: { melody: child.melody.yaml } }', ''].join('\n'),
      });
      const r = await run(root, 'parent.melody.yaml', { DEPLOY_TOKEN: 'tok-123456' });
      assert.equal(r.status, 'failure');
      const child = { runId: /\(run ([\w-]+)\)/.exec(r.nodes.call!.error!)![1]! };
      assert.match(r.nodes.call!.error!, /^sub-melody child\.melody\.yaml ended failure/);
      const runs = (await cli(root, ['runs', '--json'])).stdout;
      const childRun = (JSON.parse(runs) as { runId: string; nodes: Record<string, string> }[]).find((x) => x.runId === child.runId)!;
      assert.deepEqual(childRun.nodes, { exec: 'failure', write: 'failure', token: 'failure' });
      assert.equal(existsSync(join(root, 'pwned')), false, 'the child could not run node');
      assert.equal(existsSync(join(root, 'src', 'planted.txt')), false, 'the child could not write outside out/**');
      const show = JSON.parse((await cli(root, ['run', 'child.melody.yaml', '--json'], { env: { PATH: process.env.PATH } })).stdout) as RunJson;
      assert.equal(show.nodes.exec!.status, 'success', 'run on its own, the child may run node: the caller narrowed it');
      const journal = (await import('node:fs')).readFileSync(join(root, '.symphony', 'runs', child.runId, 'journal.jsonl'), 'utf8');
      assert.match(journal, /this melody does not allow running programs: add \\"node\\" to permissions\.commands — in the melody that started this sub-melody: a sub-melody never gets more than its caller/);
      assert.match(journal, /permissions\.fs\.write does not allow writing src\/planted\.txt \(allowed: out\/\*\*\) — in the melody that started this sub-melody/);
      assert.match(journal, /secret DEPLOY_TOKEN is not available to this sub-melody: the melody that started it does not use it/);
    });

    it('loads sub-melodies only from inside the workspace, quoting nothing of a file outside', async () => {
      const outside = join(tempDir('symphony-outside-'), 'loot.melody.yaml');
      writeFileSync(outside, 'name: loot\nsecret_key: AKIA-OUTSIDE-SECRET\nnodes: {}\n');
      const root = workspace({
        'parent.melody.yaml': [
          'name: parent',
          'nodes:',
          `  abs: { uses: melody, continue-on-error: true, with: { melody: ${JSON.stringify(outside)} } }`,
          `  up: { uses: melody, continue-on-error: true, with: { melody: "../../../../../../..${outside}" } }`,
          `  tmp: { uses: melody, continue-on-error: true, with: { melody: ${JSON.stringify(join(tmpdir(), 'nope.melody.yaml'))} } }`,
          '',
        ].join('\n'),
      });
      const r = await run(root, 'parent.melody.yaml');
      for (const id of ['abs', 'up', 'tmp']) {
        assert.equal(r.nodes[id]!.status, 'failure', id);
        assert.match(r.nodes[id]!.error!, /is outside the workspace|cannot read/, id);
        assert.doesNotMatch(r.nodes[id]!.error!, /AKIA|secret_key/, id);
      }
    });
  });

  describe('2. git internals, Symphony’s records, melodies and editor configuration are never writable', () => {
    it('refuses each path whatever the scopes say, naming the rule', async () => {
      const targets = [
        'vendor/lib/.git/hooks/pre-commit',
        '.git/config',
        '.symphony/chambers/auth-impl/.git',
        '.symphony/audit.jsonl.lock',
        '.symphony/audit.jsonl',
        '.symphony/runs/x/run.json',
        '.symphony/DEVIATIONS.json.lock',
        '.vscode/tasks.json',
        'team.code-workspace',
        'melodies/new.melody.yaml',
        'ensembles/core/evil.yaml',
        '.symphony/conductor.yaml',
        '.symphony/prices.yaml',
      ];
      const root = workspace({ 'vendor/lib/.git/HEAD': 'ref: refs/heads/main\n' });
      const lines = ['name: plant', 'permissions: { fs: { write: ["**"] } }', 'nodes:'];
      targets.forEach((t, i) => lines.push(`  w${i}: { uses: write-file, continue-on-error: true, with: { path: ${JSON.stringify(t)}, content: "x" } }`));
      lines.push('  ok: { uses: write-file, with: { path: src/fine.txt, content: "fine" } }', '');
      writeFileSync(join(root, 'plant.melody.yaml'), lines.join('\n'));
      const r = await run(root, 'plant.melody.yaml');
      targets.forEach((t, i) => {
        assert.equal(r.nodes[`w${i}`]!.status, 'failure', t);
        assert.match(r.nodes[`w${i}`]!.error!, /is never allowed: /, t);
        assert.equal(existsSync(join(root, t)) && t !== '.symphony/audit.jsonl', false, `${t} was written`);
      });
      assert.match(r.nodes.w0!.error!, /belongs to git/);
      assert.match(r.nodes.w7!.error!, /VS Code would run what it says/);
      assert.equal(r.nodes.ok!.status, 'success', 'an ordinary file is still writable');
    });
  });
});

describe('hardening: secrets and personal data never leak', function () {
  this.timeout(120_000);

  /** Every file Symphony wrote — its records and handoff.md — with their text. */
  function written(root: string): [string, string][] {
    const out: [string, string][] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else out.push([p, readFileSync(p, 'utf8')]);
      }
    };
    if (existsSync(join(root, '.symphony'))) walk(join(root, '.symphony'));
    if (existsSync(join(root, 'handoff.md'))) out.push([join(root, 'handoff.md'), readFileSync(join(root, 'handoff.md'), 'utf8')]);
    return out;
  }

  it('5. a random secret, printed in any encoding and split at any offset, appears in no record, no handoff entry and no output', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom(...'abcXYZ019-_/+=.'.split('')), minLength: 10, maxLength: 24 }),
        fc.constantFrom(...Object.keys(ENCODINGS)),
        fc.nat(),
        async (secret, encoding, at) => {
          const encoded = ENCODINGS[encoding]!(secret);
          const split = 1 + (at % (encoded.length - 1));
          const root = workspace({
            'handoff.md': '# Handoff Log\n\n---\n',
            'child.melody.yaml': 'name: child\ninputs:\n  token: { type: string }\nnodes:\n  use: { uses: transform, with: { value: "got ${{ inputs.token }}" } }\n',
            'leak.melody.yaml': [
              'name: leak',
              'permissions: { commands: [node], fs: { write: [handoff.md] } }',
              'nodes:',
              // Two writes, the second after the first has been read: the secret arrives in two pieces.
              // (Each piece goes behind a "p", so a piece starting with "-" is not read as an option of node.)
              `  print: { uses: shell, with: { command: node, args: ["-e", "process.stdout.write(process.argv[1].slice(1)); setTimeout(() => process.stdout.write(process.argv[2].slice(1) + '\\\\n'), 80)", ${JSON.stringify(`p${encoded.slice(0, split)}`)}, ${JSON.stringify(`p${encoded.slice(split)}`)}] } }`,
              '  child: { uses: melody, with: { melody: child.melody.yaml, inputs: { token: "${{ secrets.TOKEN }}" } } }',
              '  note: { uses: handoff, with: { nickname: Mole, summary: "deployed with ${{ secrets.TOKEN }}" } }',
              '  tell: { uses: notify, with: { message: "token is ${{ secrets.TOKEN }}" } }',
              '',
            ].join('\n'),
          });
          const env = { PATH: process.env.PATH, TOKEN: secret };
          const verbose = await cli(root, ['run', 'leak.melody.yaml', '--verbose'], { env });
          const json = await cli(root, ['run', 'leak.melody.yaml', '--json'], { env });
          assert.equal(json.code, 0, json.stdout + json.stderr);
          const needle = telltale(encoded, secret, encoding);
          for (const [where, text] of [...written(root), ['stdout (--verbose)', verbose.stdout + verbose.stderr], ['stdout (--json)', json.stdout + json.stderr]] as [string, string][]) {
            assert.ok(!text.includes(secret), `the secret leaked raw into ${where}`);
            assert.ok(!text.includes(needle), `the secret leaked ${encoding}-encoded into ${where}`);
          }
          assert.match(readFileSync(join(root, 'handoff.md'), 'utf8'), /deployed with \*\*\*/);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('6. masks the personal data a melody names in outputs, logs, handoff entries and the prompts sent to models', async () => {
    const server = await startOpenAiServer({ models: ['m'] });
    try {
      server.reply({ text: 'Reply to [email] about the order.' });
      const root = workspace({
        'handoff.md': '# Handoff Log\n\n---\n',
        'ensembles/core/writer.yaml': `nickname: Quill\nkind: model\nmodel: { provider: openai-compatible, id: m, baseUrl: "${server.url}" }\n`,
        'pii.melody.yaml': [
          'name: pii',
          'privacy: { mask: [email, card] }',
          'permissions: { commands: [node], fs: { write: [handoff.md] } }',
          'nodes:',
          `  print: { uses: shell, with: { command: node, args: ["-e", "console.log('customer jane.doe@example.com paid with 4111 1111 1111 1111, order 1234567890123456')"] } }`,
          '  ask: { uses: instrument, instrument: core/writer, with: { prompt: "Write to jane.doe@example.com about card 4111-1111-1111-1111." } }',
          '  note: { uses: handoff, with: { nickname: Quill, summary: "Wrote to jane.doe@example.com." } }',
          '',
        ].join('\n'),
      });
      const r = await run(root, 'pii.melody.yaml');
      assert.equal(r.status, 'success', JSON.stringify(r.nodes));
      assert.equal((r.nodes.print!.output as { stdout: string }).stdout, 'customer [email] paid with [card], order 1234567890123456\n', 'a number that is not a card stays');
      const prompt = JSON.stringify(server.calls()[0]!.body);
      assert.ok(!prompt.includes('jane.doe@example.com') && !prompt.includes('4111-1111-1111-1111'), prompt);
      assert.match(prompt, /Write to \[email\] about card \[card\]\./);
      for (const [where, text] of written(root)) {
        assert.ok(!text.includes('jane.doe@example.com'), `an email leaked into ${where}`);
        assert.ok(!text.includes('4111 1111 1111 1111'), `a card number leaked into ${where}`);
      }
      assert.match(readFileSync(join(root, 'handoff.md'), 'utf8'), /Wrote to \[email\]\./);
    } finally {
      await server.close();
    }
  });

  it('6. takes the workspace default from .symphony/privacy.yaml, and refuses to run with a broken one', async () => {
    const root = workspace({
      '.symphony/privacy.yaml': 'mask: [email]\n',
      'p.melody.yaml': 'name: p\nnodes:\n  a: { uses: transform, with: { value: "mail ops@example.com" } }\n',
    });
    assert.equal((await run(root, 'p.melody.yaml')).nodes.a!.output, 'mail [email]');
    writeFileSync(join(root, '.symphony/privacy.yaml'), 'mask: [emails]\n');
    const broken = await run(root, 'p.melody.yaml');
    assert.equal(broken.status, 'failure');
    assert.match(JSON.stringify(broken), /privacy\.yaml: mask\.0: .*expected mask: \[email, phone, card, ssn, ip, iban\]/);
  });
});
