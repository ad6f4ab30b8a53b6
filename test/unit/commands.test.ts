import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, VIEWS } from '../../src/extension/commandIds';
import { REPO } from './helpers';

interface Manifest {
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    views: Record<string, { id: string }[]>;
    menus: Record<string, { command?: string }[]>;
  };
}

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Manifest;
const contributed = manifest.contributes.commands.map((c) => c.command);
const registrations = readdirSync(join(REPO, 'src/extension/commands'))
  .map((f) => readFileSync(join(REPO, 'src/extension/commands', f), 'utf8'))
  .join('\n');

// These tests import commandIds.ts, which has no `vscode` import, so they run without VS Code.
describe('commands and views', () => {
  it('every contributed command has an id in COMMANDS, and every id is contributed', () => {
    assert.deepEqual([...contributed].sort(), Object.values(COMMANDS).sort());
  });

  it('every command id is registered in code', () => {
    const unregistered = Object.keys(COMMANDS).filter((key) => !new RegExp(`register\\(ctx, COMMANDS\\.${key},`).test(registrations));
    assert.deepEqual(unregistered, []);
  });

  it('every command is in the Symphony category with a title', () => {
    for (const c of manifest.contributes.commands) {
      assert.equal(c.category, 'Symphony', c.command);
      assert.ok(c.title.length > 0, c.command);
    }
  });

  it('menus only name contributed commands', () => {
    const named = Object.values(manifest.contributes.menus).flatMap((items) => items.map((i) => i.command).filter(Boolean));
    assert.deepEqual(named.filter((c) => !contributed.includes(c!)), []);
  });

  it('the four views of DESIGN.md §7 are contributed under the Symphony container', () => {
    assert.deepEqual(
      manifest.contributes.views.symphony!.map((v) => v.id),
      [VIEWS.ensembles, VIEWS.melodies, VIEWS.runs, VIEWS.deviations],
    );
  });

  it('activates only on Symphony files, never on *', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.ok(!manifest.activationEvents.includes('onStartupFinished'));
    for (const e of manifest.activationEvents) assert.match(e, /^workspaceContains:/);
  });
});
