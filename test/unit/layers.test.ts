import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from './helpers';

/** Every .ts/.tsx file under `dir` (none when the layer does not exist yet). */
function sources(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const IMPORTS_VSCODE = /(?:from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\))/;
const IMPORTS_EXTENSION = /from\s+['"](?:\.\.\/)+(?:src\/)?extension\//;

describe('layering', () => {
  for (const layer of ['src/core', 'src/cli', 'src/protocol', 'webview']) {
    it(`${layer} never imports vscode or the extension`, () => {
      const offenders = sources(join(REPO, layer))
        .filter((f) => {
          const text = readFileSync(f, 'utf8');
          return IMPORTS_VSCODE.test(text) || IMPORTS_EXTENSION.test(text);
        })
        .map((f) => relative(REPO, f));
      assert.deepEqual(offenders, [], `these files must stay free of VS Code: ${offenders.join(', ')}`);
    });
  }

  it('the checks recognise every import form', () => {
    for (const text of ["import * as vscode from 'vscode';", 'const v = require("vscode")', "await import('vscode')", "import type { X } from 'vscode'"]) {
      assert.ok(IMPORTS_VSCODE.test(text), text);
    }
    assert.ok(IMPORTS_EXTENSION.test("import { x } from '../../extension/context'"));
    assert.ok(!IMPORTS_VSCODE.test("import { x } from 'vscode-languageserver'"));
  });
});
