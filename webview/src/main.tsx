/**
 * Entry point of the Harmony Board webview. It runs in the browser sandbox of a webview:
 * no Node, no `vscode` module — it talks to the extension only through the typed
 * messages of `src/protocol/board.ts`.
 */
import '@xyflow/react/dist/style.css';
import './board.css';
import { Component, StrictMode, type ErrorInfo, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { foldRunEvents, runView } from '../../src/protocol/boardRun';
import { App } from './App';
import type { ElkScript } from './elk';
import { layoutAll, needsLayout } from './canvas/layout';
import { loadViewState, log, onHostMessage, sendReady } from './host';
import { announce, showConsole } from './run/runActions';
import { getState, setStatus, update } from './store';

onHostMessage((message) => {
  switch (message.type) {
    case 'init':
      // This panel's own choice (kept across its reloads) wins over the workspace's.
      update({ catalog: message.catalog, minimap: loadViewState().minimap ?? message.view.minimap });
      return;
    case 'document': {
      // A melody without positions needs ELK: start it now, in its worker, while the board
      // draws everything else (the canvas picks the same layout up when it gets there).
      const nodes = message.document.melody?.nodes ?? [];
      if (needsLayout(nodes)) layoutAll(nodes).catch(() => undefined);
      // Keep the selection to nodes that still exist (a node renamed in the text editor is gone).
      const ids = new Set(message.document.melody?.nodes.map((n) => n.id) ?? []);
      update({ document: message.document, selection: getState().selection.filter((id) => ids.has(id)) });
      return;
    }
    case 'result':
      // Answered through the promise `request` returned (see actions.ts).
      return;
    case 'run-state':
      update({ run: runView(message.run ?? undefined, message.events, message.dropped) });
      return;
    case 'run-events':
      update({ run: foldRunEvents(getState().run, message.events) });
      announce(message.events);
      return;
    case 'run-controls': {
      const before = getState().controls.paused;
      update({ controls: message.controls });
      const paused = message.controls.paused;
      if (paused && paused !== before) {
        // A pause wants attention: the console shows where, and the status line says it.
        showConsole(true);
        setStatus(`Paused before ${paused}: Continue, Step or Cancel in the debug console`);
      }
      return;
    }
    case 'pins':
      update({ pins: message.pins });
      return;
    default: {
      const never: never = message;
      return never;
    }
  }
});

/** A render error shows a message and a way back, instead of a blank panel. */
class Boundary extends Component<{ children: ReactNode }, { error?: Error }> {
  override state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    log('error', `render failed: ${error.stack ?? error.message}\n${info.componentStack ?? ''}`);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="broken" role="alert">
        <h2>The board hit a problem</h2>
        <p>{this.state.error.message}</p>
        <p>The melody file is untouched. The details are in the Symphony log (Symphony: Show Log).</p>
        <button type="button" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </div>
    );
  }
}

window.addEventListener('error', (e) => log('error', `${e.message} at ${e.filename}:${e.lineno}`));
window.addEventListener('unhandledrejection', (e) => log('error', `unhandled: ${String((e as PromiseRejectionEvent).reason)}`));

function start(): void {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <Boundary>
        <App />
      </Boundary>
    </StrictMode>,
  );
  sendReady();
}

// A melody without positions waits for ELK, whose worker elk.js starts once it has
// decompressed ELK's script — in a few short tasks of this thread, which the board's first
// render (hundreds of milliseconds) would otherwise hold up, and the layout with them.
// When elk.js has run and is laying the page's graph out, the board starts after its
// worker has (or after it failed: the layout then reports why) — unless this panel
// remembers that graph's layout, which then needs no worker (layout.ts).
const elk = (globalThis as { SymphonyElk?: ElkScript }).SymphonyElk;
const remembered = elk?.early !== undefined && loadViewState().layout?.shape === elk.early.key;
if (elk?.early && elk.engine && !remembered) void elk.engine.then(start, start);
else start();
