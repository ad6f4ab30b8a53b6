import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, EDITORS } from '../../src/extension/commandIds';
import { REPO } from './helpers';

interface Manifest {
  contributes: {
    customEditors: { viewType: string; selector: { filenamePattern: string }[]; priority: string }[];
    keybindings: { command: string; key: string; mac?: string; when?: string }[];
    menus: Record<string, { command?: string; when?: string }[]>;
  };
}

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Manifest;

describe('Harmony Board in the manifest', () => {
  it('is a custom editor for melody files that the text editor stays the default for', () => {
    const editor = manifest.contributes.customEditors.find((e) => e.viewType === EDITORS.harmonyBoard);
    assert.deepEqual(editor, { viewType: EDITORS.harmonyBoard, displayName: 'Harmony Board', selector: [{ filenamePattern: '*.melody.yaml' }], priority: 'option' });
  });

  it('binds Ctrl/Cmd+M only where a melody or the board is in focus', () => {
    const bindings = manifest.contributes.keybindings.filter((k) => k.key === 'ctrl+m');
    assert.deepEqual(
      bindings.map((k) => [k.command, k.mac, k.when]),
      [
        [COMMANDS.openBoard, 'cmd+m', 'resourceFilename =~ /\\.melody\\.yaml$/ && activeCustomEditorId != symphony.harmonyBoard'],
        [COMMANDS.openBoard, 'cmd+m', 'focusedView == symphony.melodies'],
        [COMMANDS.openMelodyText, 'cmd+m', 'activeCustomEditorId == symphony.harmonyBoard'],
      ],
    );
  });

  it('ships the webview bundle, the expression worker and the templates in the package', () => {
    const ignore = readFileSync(join(REPO, '.vscodeignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('!dist/webview/**'));
    assert.ok(ignore.includes('!dist/celWorker.js'), 'the extension evaluates costly expressions on it');
    assert.ok(ignore.includes('!templates/**'));
  });
});
