import * as assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendHandoff } from '../../src/core/conductor/handoff';
import { promptBudget } from '../../src/core/context/prompt';
import { instrumentNode } from '../../src/core/nodes/instrument';
import { NodeError } from '../../src/core/nodes/types';
import { countTokens } from '../../src/core/providers/tokens';
import { nodeRig, rejection, scratchDir, testInstrument } from './nodeContext';

function write(root: string, path: string, text: string | Buffer): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** An instrument whose model reads `window` tokens (counted approximately: llama3.1 is no OpenAI model). */
const small = (window: number) => testInstrument({ model: { provider: 'openai-compatible', id: 'llama3.1', contextWindow: window } });

describe('instrument node: context packing', () => {
  it('packs matching workspace files under headers, skipping node_modules, .git and .symphony', async () => {
    const rig = nodeRig({ instrument: testInstrument() });
    write(rig.root, 'src/b.ts', 'export const b = 2;\n');
    write(rig.root, 'src/a.ts', 'export const a = 1;');
    write(rig.root, 'src/notes.md', 'not a ts file\n');
    write(rig.root, 'src/node_modules/dep/index.ts', 'dependency\n');
    write(rig.root, 'node_modules/dep/index.ts', 'dependency\n');
    write(rig.root, '.symphony/runs/x.ts', 'record\n');
    write(rig.root, 'docs/guide/intro.md', '# Intro\n');
    write(rig.root, 'README.md', '# Readme\n');
    rig.models.reply('ok');

    await instrumentNode.run({ prompt: 'Review these.', files: ['src/**/*.ts', 'README.md', 'docs/', '**/*.ts'] }, rig.ctx);

    assert.equal(
      rig.models.prompt(0),
      [
        '## MUST READ',
        '### Task',
        'Review these.',
        '## SHOULD KNOW',
        '### README.md',
        '```\n# Readme\n```',
        '### docs/guide/intro.md',
        '```\n# Intro\n```',
        '### src/a.ts',
        '```\nexport const a = 1;\n```',
        '### src/b.ts',
        '```\nexport const b = 2;\n```',
      ].join('\n\n'),
    );
    assert.equal(rig.logged('info'), '', 'nothing was left out');
  });

  it('sends a prompt with nothing to pack as it is', async () => {
    const rig = nodeRig({ instrument: testInstrument() });
    rig.models.reply('ok');
    await instrumentNode.run({ prompt: 'Just this.\n' }, rig.ctx);
    assert.equal(rig.models.prompt(0), 'Just this.\n');
  });

  it('says which files it left out: over the budget, binary, or not readable — in the prompt and the log', async () => {
    const parent = scratchDir();
    const root = join(parent, 'ws');
    write(parent, 'outside/secret.txt', 'top secret\n');
    write(root, 'big/1.txt', 'alpha beta gamma delta\n'.repeat(200)); // about 1,000 tokens
    write(root, 'big/2.txt', 'epsilon zeta eta theta\n'.repeat(400)); // about 2,000 tokens
    write(root, 'big/3.txt', 'small\n');
    write(root, 'big/4.bin', Buffer.from([0x89, 0x50, 0x00, 0x01]));
    symlinkSync(join(parent, 'outside', 'secret.txt'), join(root, 'big', '5.txt'));
    const rig = nodeRig({ root, instrument: small(4096) });
    rig.models.reply('ok');

    await instrumentNode.run({ prompt: 'Look.', files: ['big/*'] }, rig.ctx);

    const prompt = rig.models.prompt(0);
    const budget = promptBudget(small(4096), undefined).tokens - countTokens('Handles schema and queries.');
    assert.ok(countTokens(prompt) <= budget, `${countTokens(prompt)} tokens > ${budget}`);
    assert.ok(prompt.includes('### big/1.txt\n\n```\nalpha beta'));
    assert.ok(!prompt.includes('top secret') && !prompt.includes('### big/4.bin'));
    // big/2.txt does not fit whole: it is cut to the room left, and says so; big/3.txt comes
    // after it in order, and there is no room left for it.
    assert.match(prompt, /### big\/2\.txt\n\n```\nepsilon zeta[\s\S]*```\n\n\[cut: \d+ of \d+ tokens\]/);
    const trailer = prompt.slice(prompt.indexOf('## LEFT OUT'));
    assert.match(trailer, /^## LEFT OUT\n\nNot in this prompt, for want of room or for the reason given; ask for what you need:\n/);
    assert.match(trailer, /\n- big\/2\.txt \(cut: \d+ of \d+ tokens\)\n- big\/3\.txt\n- big\/4\.bin: binary\n- big\/5\.txt: big\/5\.txt is outside the workspace/);
    assert.match(rig.logged('info'), /^context: \d+ of \d+ tokens; not all there: big\/2\.txt \(cut: \d+ of \d+ tokens\); big\/3\.txt; big\/4\.bin; big\/5\.txt\n$/);
  });

  it('refuses globs that reach outside the workspace, and says when nothing matched', async () => {
    const rig = nodeRig({ instrument: testInstrument() });
    const e = await rejection(instrumentNode.run({ prompt: 'x', files: ['../**/*.ts'] }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    assert.match(e.message, /files: \.\.\/\*\*\/\*\.ts reaches outside the workspace/);
    rig.models.reply('ok');
    await instrumentNode.run({ prompt: 'x', files: ['nothing/**'] }, rig.ctx);
    assert.match(rig.models.prompt(0), /^## MUST READ\n\n### Task\n\nx\n\n## LEFT OUT\n\n.*\n- nothing\/\*\*: no workspace file matches$/);
  });

  it('fails for good, before calling the model, when the prompt alone does not fit', async () => {
    const rig = nodeRig({ instrument: small(2048) });
    const prompt = 'word '.repeat(2000);
    const e = await rejection(instrumentNode.run({ prompt, maxTokens: 512 }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
    // 2048 − 512 for the answer − a margin of 10% + 16 = 1315.
    assert.match(e.message, /^the prompt alone needs \d+ tokens \(\d+ of them the system prompt\) and the model reads at most 1315 \(backend\/database reads 2048 tokens, less 512 for the answer and 221 of margin\); shorten the prompt/);
    assert.equal(rig.models.requests.length, 0);

    const limited = await rejection(instrumentNode.run({ prompt: 'word '.repeat(300), context: { tokens: 100 } }, nodeRig({ instrument: testInstrument() }).ctx));
    assert.match(limited.message, /and the model reads at most 100 \(with\.context\.tokens is 100\); raise with\.context\.tokens/);
  });

  it('with `with.context`: MUST READ, SHOULD KNOW and REFERENCE IF NEEDED from the workspace', async () => {
    const instrument = testInstrument({ handles: ['db/**'], file: '' });
    const rig = nodeRig({ instrument });
    const withFile = { ...instrument, file: join(rig.root, 'ensembles', 'backend', 'database.yaml') };
    write(rig.root, 'ensembles/backend/summary.txt', 'The backend keeps its schema in db/schema.sql.\n');
    write(rig.root, 'production.md', '# Production Goals\n\n## Checklist\n\n- [ ] All tests pass (`npm test`)\n\n## Constraints\n\n- Never commit secrets.\n');
    write(rig.root, 'db/schema.sql', 'create table users (id int);\n');
    write(rig.root, 'db/seed.sql', 'insert into users values (1);\n');
    write(rig.root, 'src/db.ts', 'export const db = 1;\n');
    for (let i = 0; i < 8; i++) await appendHandoff(rig.root, { nickname: 'Tuba', instrument: 'backend/database', summary: `Turn ${i}: changed the schema.`, at: new Date(Date.UTC(2026, 0, 1 + i)) });
    rig.models.reply('ok');

    await instrumentNode.run({ prompt: 'Add an email column; see `src/db.ts`.', context: {} }, { ...rig.ctx, instrument: withFile });

    const prompt = rig.models.prompt(0);
    const headings = prompt.split('\n').filter((l) => /^##/.test(l));
    assert.deepEqual(headings, [
      '## MUST READ',
      '### Task',
      '### Production constraints (production.md)',
      '## SHOULD KNOW',
      '### Handoff log (handoff.md)',
      '### Ensemble summary (ensembles/backend/summary.txt)',
      '### Production goals (production.md)',
      '### src/db.ts',
      '## REFERENCE IF NEEDED',
      '### Older handoff entries (handoff.md)',
      '### db/schema.sql',
      '### db/seed.sql',
    ]);
    assert.match(prompt, /### Production constraints \(production\.md\)\n\n- Never commit secrets\.\n/);
    assert.match(prompt, /Newest 5 entries, newest first:\n- 2026-01-08T00:00:00\.000Z Tuba \(backend\/database\): Turn 7: changed the schema\./);
    assert.match(prompt, /### Older handoff entries \(handoff\.md\)\n\n- 2026-01-03T00:00:00\.000Z Tuba \(backend\/database\): Turn 2/);
    assert.match(prompt, /Tests run with: `npm test`/);

    // Only the tiers asked for.
    rig.models.reply('ok');
    await instrumentNode.run({ prompt: 'Again.', context: { tiers: ['reference'] } }, { ...rig.ctx, instrument: withFile });
    assert.deepEqual(
      rig.models.prompt(1).split('\n').filter((l) => /^##/.test(l)),
      ['## MUST READ', '### Task', '### Production constraints (production.md)', '## REFERENCE IF NEEDED', '### Older handoff entries (handoff.md)', '### db/schema.sql', '### db/seed.sql'],
    );
  });

  it('lists what the permission guard refuses instead of reading it', async () => {
    const rig = nodeRig({ instrument: testInstrument(), permissions: { fs: { read: ['src/**'] } } });
    write(rig.root, 'production.md', '## Constraints\n\n- Secret rule.\n');
    await appendHandoff(rig.root, { nickname: 'Tuba', summary: 'Private work.' });
    write(rig.root, 'notes/private.md', 'private\n');
    write(rig.root, 'src/ok.ts', 'ok\n');
    rig.models.reply('ok');

    await instrumentNode.run({ prompt: 'Read `notes/private.md` and `src/ok.ts`.', context: {} }, rig.ctx);

    const prompt = rig.models.prompt(0);
    assert.ok(!prompt.includes('Secret rule') && !prompt.includes('Private work') && !prompt.includes('private\n'));
    assert.ok(prompt.includes('### src/ok.ts'));
    assert.match(prompt, /\n- production\.md: permissions\.fs\.read does not allow reading production\.md/);
    assert.match(prompt, /\n- handoff\.md: permissions\.fs\.read does not allow reading handoff\.md/);
    assert.match(prompt, /\n- notes\/private\.md: permissions\.fs\.read does not allow reading notes\/private\.md/);
  });

  it('keeps the prompt, system prompt included, within `with.context.tokens`', async () => {
    const rig = nodeRig({ instrument: testInstrument({ model: { provider: 'openai-compatible', id: 'gpt-4o-mini' } }) });
    for (let i = 0; i < 40; i++) write(rig.root, `src/f${String(i).padStart(2, '0')}.ts`, `export const v${i} = ${'1 + '.repeat(100)}1;\n`);
    rig.models.reply('ok');
    await instrumentNode.run({ prompt: 'Sum them.', system: 'Be brief.', files: ['src/**'], context: { tokens: 3000 } }, rig.ctx);
    const used = countTokens(rig.models.prompt(0), 'gpt-4o-mini') + countTokens('Handles schema and queries.\n\nBe brief.', 'gpt-4o-mini');
    assert.ok(used <= 3000 && used >= 2900, `${used} tokens`);
    assert.match(rig.logged('info'), /^context: \d+ of \d+ tokens; not all there: /);
  });
});
