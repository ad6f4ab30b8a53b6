/**
 * The Harmony Board's layout: a toolbar (with the run controls), the palette and outline
 * on the left, the canvas in the middle with the debug console under it, the inspector
 * and problems on the right, a status line at the bottom that screen readers hear. YAML
 * that cannot be read replaces the canvas with its diagnostics, never with a half-drawn
 * graph.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type ComponentType } from 'react';
import type { BoardMelody } from '../../src/protocol/boardModel';
import { perform } from './actions';
import { Canvas, type CanvasOverlay } from './canvas/Canvas';
import { layoutAll, type Point, type Positions } from './canvas/layout';
import { toggleBreakpoints } from './run/runActions';
import { getState, selectedNode, setStatus, update, useBoard } from './store';
import { loadViewState, saveViewState, sendView } from './host';

type Later = typeof import('./later');

/**
 * A component of the chunk drawn after the cards (later.ts): it loads when the first of
 * them is drawn, each drawn under a `Suspense` of its own, so nothing else waits for it.
 */
function later<K extends keyof Later>(name: K): Later[K] {
  // lazy() takes any component; the cast back keeps each one's own props.
  return lazy(() => import('./later').then((m) => ({ default: m[name] as ComponentType<any> }))) as unknown as Later[K];
}

const Inspector = later('Inspector');
const Outline = later('Outline');
const Palette = later('Palette');
const ProblemList = later('ProblemList');
const DebugConsole = later('DebugConsole');
const RunToolbar = later('RunToolbar');
const IconButton = later('IconButton');
const ToggleButton = later('ToggleButton');
const VSCodePanels = later('VSCodePanels');
const VSCodePanelTab = later('VSCodePanelTab');
const VSCodePanelView = later('VSCodePanelView');

/** The theme's brightness, for React Flow's own colours (the rest follows CSS variables). */
function useColorMode(): 'light' | 'dark' {
  const read = (): 'light' | 'dark' => (document.body.classList.contains('vscode-light') || document.body.classList.contains('vscode-high-contrast-light') ? 'light' : 'dark');
  const [mode, setMode] = useState(read);
  useEffect(() => {
    const observer = new MutationObserver(() => setMode(read()));
    observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    return () => observer.disconnect();
  }, []);
  return mode;
}

/** Side panels give way to the canvas in a narrow editor, unless the user says otherwise. */
function usePanels(): { left: boolean; right: boolean; toggle: (side: 'left' | 'right') => void } {
  const [width, setWidth] = useState(window.innerWidth);
  const [chosen, setChosen] = useState<{ left?: boolean; right?: boolean }>(() => ({ left: loadViewState().showLeft, right: loadViewState().showRight }));
  useEffect(() => {
    const onResize = () => setWidth(window.innerWidth);
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);
  const left = chosen.left ?? width >= 900;
  const right = chosen.right ?? width >= 620;
  const toggle = (side: 'left' | 'right') => {
    const next = { ...chosen, [side]: !(side === 'left' ? left : right) };
    setChosen(next);
    saveViewState({ showLeft: next.left, showRight: next.right });
  };
  return { left, right, toggle };
}

const isTyping = (e: KeyboardEvent): boolean => {
  const t = e.composedPath()[0];
  return t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || t.tagName.startsWith('VSCODE-'));
};

interface ToolbarProps {
  readonly name: string;
  readonly file: string;
  /** Undefined when the YAML cannot be read: no canvas, nothing to run. */
  readonly melody: BoardMelody | undefined;
  readonly panels: ReturnType<typeof usePanels>;
  /** Fits the melody in view (where `positions` puts it, when given). */
  readonly fit: (positions?: Positions) => void;
  /**
   * Whether its buttons are drawn. Like the side panels, they wait for the canvas's first
   * paint: a dozen toolkit buttons are a dozen custom elements to create, styled from the
   * design tokens — about 60 ms of the page's thread that the cards would otherwise wait for.
   */
  readonly controls: boolean;
}

/** Shows or hides the minimap: this panel remembers it, and the workspace's next boards open that way. */
function setMinimap(shown: boolean): void {
  update({ minimap: shown });
  saveViewState({ minimap: shown });
  sendView({ minimap: shown });
}

function Toolbar({ name, file, melody, panels, fit, controls }: ToolbarProps) {
  const canvas = !!melody;
  const tidy = async () => {
    const melody = getState().document?.melody;
    if (!melody || melody.nodes.length === 0) return;
    setStatus(`Laying out ${melody.nodes.length} nodes…`);
    let positions: Positions;
    try {
      positions = await layoutAll(melody.nodes);
    } catch (e) {
      // The layout engine could not load or died: said, and nothing moves (Tidy up may be tried again).
      setStatus(`Tidy up failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
      return;
    }
    await perform({ kind: 'move', positions: Object.fromEntries(Object.entries(positions).map(([id, p]) => [id, [p[0], p[1]]])) });
    fit(positions);
  };
  return (
    <header className="toolbar" role="toolbar" aria-label="Board actions">
      <h1 className="toolbar-title">
        {name} <span className="toolbar-file">{file}</span>
      </h1>
      <Suspense fallback={null}>
        {controls && melody && <RunToolbar melody={melody} />}
        {controls && canvas && (
          <>
            <ToggleButton label="Palette and outline" pressed={panels.left} onClick={() => panels.toggle('left')}>
              ◧
            </ToggleButton>
            <ToggleButton label="Inspector and problems" pressed={panels.right} onClick={() => panels.toggle('right')}>
              ◨
            </ToggleButton>
            <IconButton glyph="⊞" label="Tidy up: lay out every node automatically" onClick={() => void tidy()} />
            <IconButton glyph="⤢" label="Fit the melody in view" onClick={() => fit()} />
          </>
        )}
        {controls && (
          <>
            <IconButton glyph="↶" label="Undo (Ctrl/Cmd+Z)" onClick={() => void perform({ kind: 'history', action: 'undo' })} />
            <IconButton glyph="↷" label="Redo (Ctrl/Cmd+Shift+Z)" onClick={() => void perform({ kind: 'history', action: 'redo' })} />
            <IconButton glyph="{}" label="Show the YAML in a text editor (Ctrl/Cmd+M)" onClick={() => void perform({ kind: 'reveal' })} />
            <IconButton glyph="⇩" label="Import a melody from JSON or YAML" onClick={() => void perform({ kind: 'import' })} />
            <IconButton glyph="J" label="Export as JSON" onClick={() => void perform({ kind: 'export', format: 'json' })} />
            <IconButton glyph="Y" label="Export as YAML" onClick={() => void perform({ kind: 'export', format: 'yaml' })} />
          </>
        )}
      </Suspense>
    </header>
  );
}

const KEYS =
  'Keys: / search the palette · Enter add · Tab to a node, Enter select · arrows move · Delete remove · F2 rename · F9 breakpoint · Escape deselect · Ctrl/Cmd+Z undo · Ctrl/Cmd+M text editor';

/** How long the side panels wait at most for the canvas's first paint (a long ELK layout). */
const PANELS_AT_THE_LATEST_MS = 4000;

/** The whole board: what it shows follows the store, which follows the extension. */
export function App() {
  const { catalog, document: doc, selection, status, focus, run, controls, pins, preview, console: consoleOpen, minimap } = useBoard();
  const colorMode = useColorMode();
  const placeRef = useRef<((after?: string) => Point) | undefined>(undefined);
  const fitRef = useRef<((positions?: Positions) => void) | undefined>(undefined);
  const searchRef = useRef<HTMLInputElement | null>(null);
  const renameRef = useRef<HTMLElement | null>(null);
  const panels = usePanels();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'F2' && renameRef.current) {
        e.preventDefault();
        renameRef.current.focus();
      } else if (e.key === 'F9') {
        // F9 as in VS Code's editors: a breakpoint on (or off) the selected nodes.
        e.preventDefault();
        toggleBreakpoints(getState().selection);
      } else if (e.key === 'Escape' && getState().selection.length) {
        update({ selection: [] });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // The side panels (their tabs, and the palette, outline, inspector and problems in them:
  // VS Code toolkit elements, slow to create) and the toolbar's buttons are drawn once the
  // canvas has painted its cards (see afterPaint.ts): a big melody's cards appear sooner,
  // and while ELK lays a melody out, its worker has the processor to itself instead of
  // sharing it with the panels. Until then each side is its empty column and the toolbar
  // holds its height, so the canvas keeps its size.
  const [panelsDrawn, setPanelsDrawn] = useState(false);
  const onCanvasPainted = useCallback(() => setPanelsDrawn(true), []);
  // A melody so big that ELK takes long gets its panels anyway.
  const drawable = !!doc?.melody && !!catalog;
  useEffect(() => {
    if (panelsDrawn || !drawable) return;
    const timer = window.setTimeout(() => setPanelsDrawn(true), PANELS_AT_THE_LATEST_MS);
    return () => window.clearTimeout(timer);
  }, [panelsDrawn, drawable]);

  const overlay = useMemo<CanvasOverlay>(
    () => ({ run: run.run, breakpoints: controls.breakpoints, paused: controls.paused, pins, preview }),
    [run.run, controls.breakpoints, controls.paused, pins, preview],
  );

  if (!doc || !catalog) {
    return (
      <p className="board-loading" role="status">
        Loading the melody…
      </p>
    );
  }
  const melody = doc.melody;
  const node = selectedNode({ document: doc, selection });
  const errors = doc.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = doc.diagnostics.filter((d) => d.severity === 'warning').length;
  return (
    <ReactFlowProvider>
      <div className="board">
        <Toolbar
          name={melody?.name ?? doc.fileName}
          file={doc.fileName}
          melody={melody}
          panels={panels}
          fit={(positions) => fitRef.current?.(positions)}
          // Without a canvas there is no paint to wait for.
          controls={panelsDrawn || !melody}
        />
        {melody ? (
          <div className="board-main">
            <aside className="side left" aria-label="Add and find nodes" hidden={!panels.left}>
              <Suspense fallback={null}>
                {panelsDrawn && (
                  <VSCodePanels aria-label="Palette and outline">
                    <VSCodePanelTab id="tab-palette">PALETTE</VSCodePanelTab>
                    <VSCodePanelTab id="tab-outline">OUTLINE</VSCodePanelTab>
                    <VSCodePanelView id="view-palette">
                      <Palette catalog={catalog} place={(after) => placeRef.current?.(after) ?? [0, 0]} selected={node?.id} searchRef={searchRef} />
                    </VSCodePanelView>
                    <VSCodePanelView id="view-outline">
                      <Outline nodes={melody.nodes} selection={selection} />
                    </VSCodePanelView>
                  </VSCodePanels>
                )}
              </Suspense>
            </aside>
            <main className="center" aria-label="Canvas">
              <div className="canvas-area">
                <Canvas
                  melody={melody}
                  catalog={catalog}
                  selection={selection}
                  focus={focus}
                  placeRef={placeRef}
                  fitRef={fitRef}
                  colorMode={colorMode}
                  overlay={overlay}
                  minimap={minimap}
                  onMinimapChange={setMinimap}
                  onPainted={onCanvasPainted}
                />
              </div>
              {consoleOpen && (
                <Suspense fallback={null}>
                  <DebugConsole />
                </Suspense>
              )}
            </main>
            <aside className="side right" aria-label="Inspector and problems" hidden={!panels.right}>
              <Suspense fallback={null}>
                {panelsDrawn && (
                  <VSCodePanels aria-label="Inspector and problems">
                    <VSCodePanelTab id="tab-inspector">INSPECTOR</VSCodePanelTab>
                    <VSCodePanelTab id="tab-problems">PROBLEMS {errors + warnings > 0 ? `(${errors + warnings})` : ''}</VSCodePanelTab>
                    <VSCodePanelView id="view-inspector">
                      <Inspector doc={doc} catalog={catalog} node={node} selectionCount={selection.length} renameRef={renameRef} />
                    </VSCodePanelView>
                    <VSCodePanelView id="view-problems">
                      <ProblemList diagnostics={doc.diagnostics} />
                    </VSCodePanelView>
                  </VSCodePanels>
                )}
              </Suspense>
            </aside>
          </div>
        ) : (
          <main className="broken" aria-label="Problems">
            <h2>This melody cannot be drawn</h2>
            <p>
              The YAML of {doc.fileName} cannot be read. Fix these problems in the text editor (activate one to go there); the board follows as
              you type.
            </p>
            <Suspense fallback={null}>
              <ProblemList diagnostics={doc.diagnostics} />
            </Suspense>
          </main>
        )}
        <footer className="statusbar">
          <span className={`status ${status?.tone ?? 'info'}`} role="status" aria-live="polite">
            {/* The same message twice is still announced: the text differs by an invisible space. */}
            {status ? status.text + (status.seq % 2 ? '\u200b' : '') : ''}
          </span>
          <span className="counts">
            {melody ? `${melody.nodes.length} node${melody.nodes.length === 1 ? '' : 's'} · ` : ''}
            {errors} error{errors === 1 ? '' : 's'} · {warnings} warning{warnings === 1 ? '' : 's'}
          </span>
          <span className="keys" title={KEYS}>
            {KEYS}
          </span>
        </footer>
      </div>
    </ReactFlowProvider>
  );
}
