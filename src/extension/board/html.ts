/**
 * The Harmony Board's HTML page. Kept free of `vscode` so the benchmark can serve the very
 * same page (and the same Content Security Policy) to a plain Chromium.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardNode } from '../../protocol/boardModel';

/** What the page needs from its host: where the bundle is, and the CSP source and nonce. */
export interface BoardPage {
  /** The webview's `cspSource` (e.g. `https://*.vscode-cdn.net`). */
  readonly cspSource: string;
  /** A fresh random nonce per page: only scripts carrying it run. */
  readonly nonce: string;
  readonly scriptUri: string;
  /**
   * The chunks board.js imports (`preloadedChunks`): fetched with it rather than after it
   * has arrived and been parsed, one round trip through the webview's resource loader each.
   */
  readonly preloadUris?: readonly string[];
  readonly styleUri: string;
  /**
   * The layout engine's script (elk.js), when the melody has no positions: run as soon as
   * it arrives (`async`), so ELK's worker compiles while the board's script loads and the
   * board can lay out as soon as it asks.
   */
  readonly layoutUri?: string;
  /**
   * The melody's graph, carried on elk.js's tag so it starts the layout the moment it runs,
   * without waiting for the board's script and the document (only with `layoutUri`).
   */
  readonly layoutGraph?: readonly Pick<BoardNode, 'id' | 'needs' | 'compensation'>[];
  readonly title: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** ` data-graph="…"`: the nodes' ids and needs as JSON, escaped for an attribute. */
function graphAttribute(nodes: BoardPage['layoutGraph']): string {
  if (!nodes?.length) return '';
  const graph = nodes.map((n) => ({ id: n.id, needs: n.needs, compensation: n.compensation }));
  return ` data-graph="${escapeHtml(JSON.stringify(graph))}"`;
}

/**
 * The page: one stylesheet and one script from the bundle (with the chunks it imports,
 * preloaded), nothing inline. The policy allows only those (and images from the bundle or
 * `data:`), so nothing in a melody — a node name, a prompt — can ever run as code in the
 * board. The script is a module: the chunks it imports (webview/build.mjs) inherit its
 * nonce, as module imports do, and the preloads carry it too.
 */
export function boardHtml(page: BoardPage): string {
  const csp = [
    "default-src 'none'",
    `img-src ${page.cspSource} data:`,
    // The toolkit probes for :focus-visible with a <style> element carrying the page's
    // nonce (read from the csp-nonce meta): allowed by nonce, not by 'unsafe-inline'.
    `style-src ${page.cspSource} 'nonce-${page.nonce}'`,
    `font-src ${page.cspSource}`,
    `script-src 'nonce-${page.nonce}'`,
    // ELK lays big melodies out in a Web Worker started from a `blob:` URL of its own
    // script (webview/src/elk.ts): a worker can come from nowhere else.
    'worker-src blob:',
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta property="csp-nonce" content="${page.nonce}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeHtml(page.styleUri)}">
${(page.preloadUris ?? []).map((u) => `  <link rel="modulepreload" nonce="${page.nonce}" href="${escapeHtml(u)}">\n`).join('')}${page.layoutUri ? `  <script async nonce="${page.nonce}" src="${escapeHtml(page.layoutUri)}"${graphAttribute(page.layoutGraph)}></script>\n` : ''}  <title>${escapeHtml(page.title)}</title>
</head>
<body>
  <div id="root" class="board-root"><p class="board-loading" role="status">Loading the Harmony Board…</p></div>
  <script type="module" nonce="${page.nonce}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>
`;
}

/**
 * The chunks board.js imports as it loads, relative to the board's bundle folder: esbuild
 * names the chunks shared by board.js and what it loads later `chunk-<hash>.js`
 * (webview/build.mjs); the chunk drawn after the first paint (`later-<hash>.js`) is not
 * among them, so it does not compete with the first paint. Read from the folder, as the
 * hashes change with every build.
 */
export function preloadedChunks(bundleDir: string): string[] {
  try {
    return readdirSync(join(bundleDir, 'chunks'))
      .filter((f) => /^chunk-[\w-]+\.js$/.test(f))
      .sort()
      .map((f) => `chunks/${f}`);
  } catch {
    // No chunks folder: nothing to preload (board.js still imports what it needs).
    return [];
  }
}

/** A nonce: 32 characters of base64url from a CSPRNG. */
export function makeNonce(random: (bytes: Uint8Array) => Uint8Array): string {
  const bytes = random(new Uint8Array(24));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
