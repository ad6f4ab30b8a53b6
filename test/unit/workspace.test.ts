import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadEnsembles } from '../../src/core/load/ensembles';
import { nodeFileSystem, type FileSystem } from '../../src/core/load/fs';
import { findWorkspaceRoot, loadWorkspaceInstruments, loadWorkspaceModel, validatePaths } from '../../src/core/load/workspace';
import { jsonSchemas } from '../../src/core/model/jsonSchema';
import { initWorkspace } from '../../src/core/workspace/init';
import { modelLabel } from '../../src/core/model/instrument';
import { brief, REPO, tempDir } from './helpers';

const DEMO = join(REPO, 'examples', 'demo');

describe('workspace loading', () => {
  it('loads the demo ensembles with nicknames, kinds and models', async () => {
    const index = await loadEnsembles(nodeFileSystem, join(DEMO, 'ensembles'));
    assert.deepEqual(brief(index.diagnostics), []);
    assert.deepEqual(
      index.ensembles.map((e) => [e.id, e.meta?.name, e.instruments.map((i) => `${i.nickname}:${i.kind}:${i.model ? `${i.model.provider}/${modelLabel(i.model)}` : i.script?.command}`)]),
      [
        ['backend', 'Backend', ['Tuba:model:openai-compatible/llama3.1', 'Cello:model:vscode-lm/gpt-4o']],
        ['qa', 'Quality', ['Timpani:script:node']],
        ['research', 'Research', ['Oboe:model:anthropic/claude-sonnet-4-5', 'Celesta:model:local/model']],
      ],
    );
    assert.deepEqual([...index.refs].sort(), ['backend/database', 'backend/reviewer', 'qa/tester', 'research/analyst', 'research/scribe']);
  });

  it('keeps broken instruments visible and warns about duplicate nicknames', async () => {
    const root = tempDir();
    await initWorkspace(root, join(REPO, 'templates'));
    writeFileSync(join(root, 'ensembles/core/broken.yaml'), 'nickname: [unclosed\n');
    writeFileSync(join(root, 'ensembles/core/twin.yaml'), 'nickname: Cello\nkind: script\nscript: { command: ls }\n');
    const index = await loadEnsembles(nodeFileSystem, join(root, 'ensembles'));
    const core = index.ensembles[0]!;
    assert.deepEqual(core.broken.map((b) => b.id), ['broken']);
    assert.deepEqual(core.instruments.map((i) => i.id), ['claude', 'copilot', 'local', 'reviewer', 'tester', 'twin']);
    const warnings = index.diagnostics.filter((d) => d.code === 'duplicate-nickname');
    assert.deepEqual(
      warnings.map((d) => [d.file.slice(root.length), d.range.start.line, d.range.start.column, d.message]),
      [
        ['/ensembles/core/reviewer.yaml', 6, 11, 'nickname "Cello" is also used by core/twin; handoff entries and commits would not tell them apart'],
        ['/ensembles/core/twin.yaml', 1, 11, 'nickname "Cello" is also used by core/reviewer; handoff entries and commits would not tell them apart'],
      ],
    );
  });

  it('summarizes melodies with their triggers and checks them against the workspace', async () => {
    const model = await loadWorkspaceModel(nodeFileSystem, DEMO);
    const byName = Object.fromEntries(model.melodies.map((m) => [m.name, m]));
    assert.deepEqual(Object.keys(byName).sort(), ['build', 'code-review', 'hello', 'release-notes']);
    assert.deepEqual(byName['code-review']!.triggers, [
      { on: 'save', detail: 'src/**/*.js' },
      { on: 'schedule', detail: '0 9 * * 1-5' },
    ]);
    assert.deepEqual(byName['release-notes']!.triggers, [{ on: 'melody', detail: 'after build (success)' }]);
    assert.deepEqual(model.melodies.flatMap((m) => brief(m.diagnostics)), []);
  });

  it('finds the workspace root from a nested folder', async () => {
    assert.equal(await findWorkspaceRoot(nodeFileSystem, join(DEMO, 'melodies')), DEMO);
    const bare = tempDir();
    mkdirSync(join(bare, 'a', 'b'), { recursive: true });
    assert.equal(await findWorkspaceRoot(nodeFileSystem, join(bare, 'a', 'b')), join(bare, 'a', 'b'));
  });
});

/** The disk, remembering which melody files were read. */
function recordingFs(): { fs: FileSystem; melodiesRead: Set<string> } {
  const melodiesRead = new Set<string>();
  const fs: FileSystem = {
    ...nodeFileSystem,
    readFile: (path) => {
      if (path.endsWith('.melody.yaml')) melodiesRead.add(path);
      return nodeFileSystem.readFile(path);
    },
  };
  return { fs, melodiesRead };
}

describe('reading only what a command needs', () => {
  /** A workspace whose `other/huge.melody.yaml` (broken, too) must not be read to check the rest. */
  async function workspace(): Promise<string> {
    const root = tempDir();
    await initWorkspace(root, join(REPO, 'templates'));
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'other', 'huge.melody.yaml'), 'name: huge\nnodes:\n  a: { uses: shel }\n');
    writeFileSync(join(root, 'melodies', 'after.melody.yaml'), 'name: after\ntriggers:\n  - { on: melody, melody: hugee }\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n');
    return root;
  }

  it('validates one melody file reading no other melody, with the same diagnostics', async () => {
    const root = await workspace();
    const { fs, melodiesRead } = recordingFs();
    const hello = join(root, 'melodies', 'hello.melody.yaml');
    const report = await validatePaths(fs, [hello]);
    assert.deepEqual([...melodiesRead], [hello]);
    const whole = await loadWorkspaceModel(nodeFileSystem, root);
    assert.deepEqual(report.diagnostics, whole.melodies.find((m) => m.file === hello)!.diagnostics);
  });

  it('reads the names of the other melodies for an `on: melody` trigger, and warns as before', async () => {
    const root = await workspace();
    const { fs, melodiesRead } = recordingFs();
    const after = join(root, 'melodies', 'after.melody.yaml');
    const report = await validatePaths(fs, [after]);
    assert.ok(melodiesRead.has(join(root, 'other', 'huge.melody.yaml')));
    assert.deepEqual(brief(report.diagnostics), ['3:27 schema no melody named `hugee` in this workspace; did you mean `huge`?']);
    const whole = await loadWorkspaceModel(nodeFileSystem, root);
    assert.deepEqual(report.diagnostics, whole.melodies.find((m) => m.file === after)!.diagnostics);
  });

  it('validates a folder reading only the melodies inside it', async () => {
    const root = await workspace();
    const { fs, melodiesRead } = recordingFs();
    const report = await validatePaths(fs, [join(root, 'other')]);
    assert.deepEqual([...melodiesRead], [join(root, 'other', 'huge.melody.yaml')]);
    assert.deepEqual(report.files, [join(root, 'other', 'huge.melody.yaml')]);
    assert.deepEqual(brief(report.diagnostics), ['3:14 unknown-kind unknown node kind `shel`; did you mean `shell`?']);
  });

  it('gives a run the instruments and no melody', async () => {
    const root = await workspace();
    const { fs, melodiesRead } = recordingFs();
    const instruments = await loadWorkspaceInstruments(fs, root);
    assert.deepEqual(melodiesRead.size, 0);
    assert.ok(instruments.context.instruments?.has('core/reviewer'));
  });
});

describe('shipped JSON Schemas', () => {
  it('are up to date with the zod schemas (run `npm run schemas` when this fails)', () => {
    for (const [name, schema] of Object.entries(jsonSchemas())) {
      const shipped = JSON.parse(readFileSync(join(REPO, 'schemas', name), 'utf8'));
      assert.deepEqual(shipped, JSON.parse(JSON.stringify(schema)), `schemas/${name} is stale`);
    }
  });

  it('accept the demo melodies and reject a misspelt key', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(jsonSchemas()['melody.schema.json'] as object);
    for (const f of ['hello', 'build', 'code-review', 'release-notes']) {
      const doc = parse(readFileSync(join(DEMO, 'melodies', `${f}.melody.yaml`), 'utf8'));
      assert.ok(validate(doc), `${f}: ${ajv.errorsText(validate.errors)}`);
    }
    const bad = { name: 'x', nodes: { a: { uses: 'shell', with: { command: 'ls' }, need: ['b'] } } };
    assert.equal(validate(bad), false);
  });

  it('are contributed to YAML editors through yamlValidation', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { contributes: { yamlValidation: { fileMatch: string | string[]; url: string }[] } };
    const melody = manifest.contributes.yamlValidation.find((v) => v.fileMatch === '*.melody.yaml');
    assert.equal(melody?.url, './schemas/melody.schema.json');
  });
});
