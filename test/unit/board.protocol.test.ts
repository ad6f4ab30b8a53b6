import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boardHtml, makeNonce, preloadedChunks } from '../../src/extension/board/html';
import { isBoardMessage, isHostMessage, parseBoardMessage } from '../../src/protocol/board';
import { needsLayout } from '../../src/protocol/boardModel';
import { REPO } from './helpers';

describe('board protocol', () => {
  it('accepts every intent the board sends', () => {
    const intents: unknown[] = [
      { kind: 'add-node', paletteKey: 'kind:shell', position: [0, 40], after: 'lint' },
      { kind: 'connect', from: 'a', to: 'b' },
      { kind: 'disconnect', from: 'a', to: 'b' },
      { kind: 'delete', nodes: ['a'], edges: [{ from: 'b', to: 'c' }] },
      { kind: 'rename', from: 'a', to: 'b' },
      { kind: 'move', positions: { a: [1, 2] } },
      { kind: 'set-field', path: ['nodes', 'a', 'retry', 'max'], value: 3 },
      { kind: 'set-field', path: ['budget'] },
      { kind: 'set-field-yaml', path: ['nodes', 'a', 'outputs'], yaml: 'type: object' },
      { kind: 'replace-node-source', node: 'a', source: 'uses: shell' },
      { kind: 'reveal', line: 3, column: 1 },
      { kind: 'history', action: 'undo' },
      { kind: 'import' },
      { kind: 'export', format: 'json' },
      { kind: 'run', inputs: { file: 'x' } },
      { kind: 'set-breakpoints', nodes: ['a'] },
    ];
    for (const intent of intents) assert.ok(isBoardMessage({ type: 'intent', id: 1, intent }), JSON.stringify(intent));
    assert.ok(isBoardMessage({ type: 'ready' }));
    assert.ok(isBoardMessage({ type: 'log', level: 'error', message: 'x' }));
    assert.ok(isBoardMessage({ type: 'view', view: { minimap: false } }));
  });

  it('refuses malformed messages with the reason', () => {
    for (const [raw, why] of [
      [{ type: 'intent', id: 1, intent: { kind: 'connect', from: 'a' } }, /intent\.to/],
      [{ type: 'intent', id: 1, intent: { kind: 'move', positions: { a: [1, Infinity] } } }, /positions/],
      [{ type: 'intent', id: -1, intent: { kind: 'import' } }, /id/],
      [{ type: 'intent', id: 1, intent: { kind: 'connect', from: 'a', to: 'b', extra: 1 } }, /extra|intent/],
      [{ type: 'eval', code: '1' }, /type|message/],
      [{ type: 'view', view: { minimap: 'no' } }, /view\.minimap/],
      [{ type: 'view', view: { minimap: true, zoom: 9 } }, /view/],
      ['ready', /message|expected/],
      [null, /message|expected/],
    ] as const) {
      const r = parseBoardMessage(raw);
      assert.ok(!r.ok && why.test(r.error), `${JSON.stringify(raw)}: ${r.ok ? 'accepted' : r.error}`);
    }
  });

  it('tells host messages from anything else', () => {
    assert.ok(isHostMessage({ type: 'result', id: 1, ok: true, message: 'done' }));
    assert.ok(isHostMessage({ type: 'run-state', run: null, events: [], dropped: 0 }));
    assert.ok(!isHostMessage({ type: 'run-state', run: null }), 'a run state carries its events');
    assert.ok(!isHostMessage({ type: 'result', id: 1 }));
    assert.ok(!isHostMessage({ type: 'toString' }));
    assert.ok(!isHostMessage('document'));
  });

  it('the webview never posts outside the protocol', () => {
    const host = readFileSync(join(REPO, 'webview/src/host.ts'), 'utf8');
    assert.match(host, /postMessage\(message: BoardMessage\)/);
    const sources = (dir: string): string[] =>
      readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(`${dir}/${e.name}`) : /\.tsx?$/.test(e.name) ? [`${dir}/${e.name}`] : []));
    const others = sources('webview/src').filter((f) => f !== 'webview/src/host.ts');
    assert.ok(others.includes('webview/src/run/runActions.ts'), others.join(', '));
    for (const f of others) assert.doesNotMatch(readFileSync(join(REPO, f), 'utf8'), /postMessage\(/, f);
  });
});

describe('board page', () => {
  const nonce = makeNonce((b) => b.fill(7));
  const html = boardHtml({ cspSource: 'https://cdn.test', nonce, scriptUri: 'https://cdn.test/board.js', styleUri: 'https://cdn.test/board.css', title: 'a <b> & "c"' });

  it('allows only the bundle, by source and nonce (and the layout worker from a blob)', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.equal(csp, `default-src 'none'; img-src https://cdn.test data:; style-src https://cdn.test 'nonce-${nonce}'; font-src https://cdn.test; script-src 'nonce-${nonce}'; worker-src blob:`);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, new RegExp(`<script type="module" nonce="${nonce}" src="https://cdn.test/board.js"></script>`), 'a module: the chunks it imports carry its nonce');
  });

  it('lays a melody out only when none of its nodes has a position', () => {
    assert.equal(needsLayout([]), false, 'nothing to lay out');
    assert.equal(needsLayout([{}, {}]), true);
    assert.equal(needsLayout([{}, { position: [0, 40] }]), false, 'one placed node: the others are placed beside it');
  });

  it('has the page run the layout engine at once only when asked (a melody without positions)', () => {
    assert.doesNotMatch(html, /elk\.js/);
    const laidOut = boardHtml({ cspSource: 'https://cdn.test', nonce, scriptUri: 'https://cdn.test/board.js', styleUri: 'https://cdn.test/board.css', layoutUri: 'https://cdn.test/elk.js', title: 't' });
    assert.match(laidOut, new RegExp(`<script async nonce="${nonce}" src="https://cdn.test/elk.js"></script>`), 'run as soon as it arrives, without holding the board up');
    assert.equal((laidOut.match(/<script/g) ?? []).length, 2);
  });

  it('carries the graph to lay out on the layout script, as JSON escaped for an attribute', () => {
    const nodes = [
      { id: 'a', needs: [], compensation: false, label: 'not needed' },
      { id: 'b"<&>', needs: ['a'], compensation: true },
    ];
    const page = boardHtml({ cspSource: 'https://cdn.test', nonce, scriptUri: 'https://cdn.test/board.js', styleUri: 'https://cdn.test/board.css', layoutUri: 'https://cdn.test/elk.js', layoutGraph: nodes, title: 't' });
    const attribute = /<script async nonce="[^"]+" src="https:\/\/cdn\.test\/elk\.js" data-graph="([^"]*)"><\/script>/.exec(page)?.[1];
    assert.ok(attribute, 'on the layout script');
    assert.doesNotMatch(attribute, /[<>&"](?!#)/);
    const graph: unknown = JSON.parse(attribute.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))));
    assert.deepEqual(graph, [
      { id: 'a', needs: [], compensation: false },
      { id: 'b"<&>', needs: ['a'], compensation: true },
    ]);
    assert.equal((page.match(/<script/g) ?? []).length, 2, 'no other script');
  });

  it('preloads the chunks board.js imports, under the same nonce, and nothing the policy does not allow', () => {
    assert.doesNotMatch(html, /modulepreload/);
    const page = boardHtml({ cspSource: 'https://cdn.test', nonce, scriptUri: 'https://cdn.test/board.js', preloadUris: ['https://cdn.test/chunks/chunk-A1.js', 'https://cdn.test/chunks/chunk-"B.js'], styleUri: 'https://cdn.test/board.css', title: 't' });
    const links = [...page.matchAll(/<link rel="modulepreload" nonce="([^"]+)" href="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(links, [
      [nonce, 'https://cdn.test/chunks/chunk-A1.js'],
      [nonce, 'https://cdn.test/chunks/chunk-&#34;B.js'],
    ]);
    assert.equal(/content="([^"]+)"/.exec(page)?.[1], /content="([^"]+)"/.exec(html)?.[1], 'the policy is the same');
    assert.ok(page.indexOf('modulepreload') < page.indexOf('board.js'), 'in the head, fetched alongside board.js');
  });

  it('preloads the shared chunks of the built board, not the one drawn after the first paint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'symphony-chunks-'));
    try {
      assert.deepEqual(preloadedChunks(dir), [], 'no chunks folder: nothing to preload');
      mkdirSync(join(dir, 'chunks'));
      for (const f of ['later-ZZ9.js', 'chunk-B2.js', 'chunk-A1.js', 'chunk-A1.js.map', 'chunk-evil.css']) writeFileSync(join(dir, 'chunks', f), '');
      assert.deepEqual(preloadedChunks(dir), ['chunks/chunk-A1.js', 'chunks/chunk-B2.js']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // And the real build's: board.js imports each chunk listed, and no other.
    const built = join(REPO, 'dist', 'webview');
    const board = readFileSync(join(built, 'board.js'), 'utf8');
    const imported = [...board.matchAll(/from\s*"\.\/(chunks\/[^"]+\.js)"/g)].map((m) => m[1]).sort();
    assert.ok(imported.length > 0, 'board.js imports its chunks (npm run build first)');
    assert.deepEqual(preloadedChunks(built), [...new Set(imported)]);
  });

  it('escapes what it writes into the page', () => {
    assert.match(html, /<title>a &#60;b&#62; &#38; &#34;c&#34;<\/title>/);
  });

  it('makes url-safe nonces', () => {
    assert.match(makeNonce((b) => b.fill(255)), /^[A-Za-z0-9_-]{32}$/);
  });
});
