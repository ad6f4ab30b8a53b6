/**
 * The canvas: React Flow showing the melody's nodes and needs. It renders the document
 * and turns gestures into intents — a drag into `move`, a new edge into `connect`, the
 * Delete key into `delete`, a drop from the palette into `add-node`. It never changes the
 * graph by itself: the document that comes back is what it draws. Over it lies the run
 * overlay: each card's status from the latest run, lit edges, breakpoints and pins.
 */
import {
  ConnectionLineType,
  ControlButton,
  Controls,
  MiniMap,
  Position,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
  useStore,
  type Connection,
  type Edge,
  type NodeChange,
  type NodeHandle,
  type OnBeforeDelete,
  type Viewport,
} from '@xyflow/react';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import type { RunRecord } from '../../../src/core/model/run';
import type { BoardCatalog, BoardMelody, BoardNode } from '../../../src/protocol/boardModel';
import { edgeRunState, nodeState, type Pins } from '../../../src/protocol/boardRun';
import { perform } from '../actions';
import { loadViewState, saveViewState } from '../host';
import { setStatus, update } from '../store';
import { useAfterPaint } from '../ui/afterPaint';
import { Dots } from './Dots';
import { FarEdges, type HandlePoints } from './FarEdges';
import { fitView, type Corner, type View } from './fit';
import { GRID, NODE_HEIGHT, NODE_WIDTH, edgesOf, freeSpot, layoutAll, needsLayout, placeMissing, type Point, type Positions } from './layout';
import { Detail, MelodyNode, describeNode, type MelodyFlowNode, type NodeOverlay } from './MelodyNode';
import { shorten } from './kinds';
import { nameRecord, own } from '../../../src/core/model/names';

/** The MIME type a palette entry is dragged with. */
export const PALETTE_MIME = 'application/x-symphony-palette';

const nodeTypes = { melody: MelodyNode };

/** What React Flow holds far out, where FarEdges draws the edges. */
const NO_EDGES: Edge[] = [];
/** What React Flow holds before the first layout. */
const NO_NODES: MelodyFlowNode[] = [];

/** Below this zoom the canvas draws less detail: plain cards (MelodyNode), no arrowheads, labels or dots. */
const FAR_ZOOM = 0.4;

/**
 * The smallest zoom a fit chooses: the cards' smallest text (12 px, board.css) stays at
 * least 11 px on screen. A melody too big for that is shown from its entry nodes and
 * panned; zooming out further by hand is always possible.
 */
export const READABLE_ZOOM = 11 / 12;
/** A fit never blows a small melody up past this. */
const FIT_MAX_ZOOM = 1.2;
/** Screen pixels between the fitted cards and the canvas's edges or panels. */
const FIT_PADDING = 24;
/** The minimap's size on screen. */
const MINIMAP = { width: 200, height: 150 } as const;
/** React Flow's margin around its panels (`.react-flow__panel`). */
const PANEL_MARGIN = 15;
/** React Flow's control buttons are 26 px squares (`.react-flow__controls-button`); the board has four. */
const CONTROL_BUTTON = 26;
/** The corners the panels take before they are drawn (measured from the page once they are). */
const CONTROLS_CORNER: Corner = { width: PANEL_MARGIN + CONTROL_BUTTON, height: PANEL_MARGIN + 4 * CONTROL_BUTTON };
const MINIMAP_CORNER: Corner = { width: PANEL_MARGIN + MINIMAP.width, height: PANEL_MARGIN + MINIMAP.height };
const NO_CORNER: Corner = { width: 0, height: 0 };
/** Where the canvas looks while ELK lays a melody out: nothing is drawn on it yet. */
const PENDING_VIEW: Viewport = { x: 0, y: 0, zoom: 1 };

/*
 * React Flow's props that never change, made once. React Flow copies each prop into its
 * store when its identity changes, and every store update runs the selectors of every card,
 * handle and edge drawn: a new object or function on each render of the canvas was a store
 * update of its own.
 */
const SNAP_GRID: [number, number] = [GRID, GRID];
const DEFAULT_EDGE_OPTIONS = { type: 'smoothstep' } as const;
const DELETE_KEYS = ['Delete', 'Backspace'];
const ARIA_LABELS = { 'node.a11yDescription.default': 'Press Enter to select this node and open it in the inspector. Arrow keys move it; Delete removes it.' };
/** A node cannot need itself. */
const notToItself = (c: Connection | Edge) => c.source !== c.target;

/**
 * Where every card's handles are, so React Flow draws edges without measuring 500 cards
 * first (and cards drawn in less detail, without handles, still anchor their edges). They
 * match `.mnode-handle` in board.css: 10 px dots (plus their 1 px border) centred on the
 * card's left and right edges.
 */
const HANDLE_SIZE = 12;
const HANDLES: NodeHandle[] = [
  { type: 'target', position: Position.Left, x: -HANDLE_SIZE / 2, y: (NODE_HEIGHT - HANDLE_SIZE) / 2, width: HANDLE_SIZE, height: HANDLE_SIZE },
  { type: 'source', position: Position.Right, x: NODE_WIDTH - HANDLE_SIZE / 2, y: (NODE_HEIGHT - HANDLE_SIZE) / 2, width: HANDLE_SIZE, height: HANDLE_SIZE },
];
/** Where React Flow starts and ends edges on a card: the right handle's right middle, the left handle's left middle. */
const HANDLE_POINTS: HandlePoints = {
  source: { x: HANDLES[1]!.x + HANDLE_SIZE, y: HANDLES[1]!.y + HANDLE_SIZE / 2 },
  target: { x: HANDLES[0]!.x, y: HANDLES[0]!.y + HANDLE_SIZE / 2 },
};

/**
 * The arrowhead every edge ends with, defined once. Given as an object on each edge, React
 * Flow derived a marker id from every edge's object (sorting its keys) whenever the edges
 * changed — 900 times on a 500-node melody's first render — to end up with this one. This
 * is the marker React Flow drew for `{ type: ArrowClosed, width: 16, height: 16 }`, in its
 * default colour.
 */
const ARROW = 'symphony-arrow';
const ARROW_COLOR = '#b1b1b7';
function ArrowDefinition() {
  return (
    <svg className="arrow-definition" aria-hidden="true">
      <defs>
        <marker
          className="react-flow__arrowhead"
          id={ARROW}
          markerWidth="16"
          markerHeight="16"
          viewBox="-10 -10 20 20"
          markerUnits="strokeWidth"
          orient="auto-start-reverse"
          refX="0"
          refY="0"
        >
          <polyline
            className="arrowclosed"
            style={{ stroke: ARROW_COLOR, fill: ARROW_COLOR, strokeWidth: 1 }}
            strokeLinecap="round"
            strokeLinejoin="round"
            points="-5,-4 0,0 -5,4 -5,-4"
          />
        </marker>
      </defs>
    </svg>
  );
}

interface CanvasProps {
  readonly melody: BoardMelody;
  readonly catalog: BoardCatalog | undefined;
  readonly selection: readonly string[];
  readonly focus: { readonly node: string; readonly seq: number } | undefined;
  /** Lets the palette ask where a new node should go. */
  readonly placeRef: { current: ((after?: string) => Point) | undefined };
  /** Lets the toolbar fit the melody in view (animated). */
  readonly fitRef: { current: ((positions?: Positions) => void) | undefined };
  readonly colorMode: 'light' | 'dark';
  /** What the run overlay draws. */
  readonly overlay: CanvasOverlay;
  /** Whether the minimap is shown (the user's choice, remembered). */
  readonly minimap: boolean;
  readonly onMinimapChange: (shown: boolean) => void;
  /** Called once the cards have first been painted (what can wait is drawn after it). */
  readonly onPainted?: () => void;
}

/** The run, breakpoints and pins the canvas draws over the melody. */
export interface CanvasOverlay {
  readonly run: RunRecord | undefined;
  readonly breakpoints: readonly string[];
  readonly paused: string | undefined;
  readonly pins: Pins;
  /** Whether Run uses the pins. */
  readonly preview: boolean;
}

/** A node's overlay, reusing `old` when nothing in it changed (so its card is not redrawn). */
function overlayOf(n: BoardNode, o: CanvasOverlay, breakpoints: ReadonlySet<string>, old: NodeOverlay | undefined): NodeOverlay {
  const next: NodeOverlay = {
    state: nodeState(o.run, n.id, !n.compensation),
    record: own(o.run?.nodes, n.id),
    breakpoint: breakpoints.has(n.id),
    paused: o.paused === n.id,
    pin: Object.hasOwn(o.pins, n.id) ? (o.preview ? 'used' : 'unused') : undefined,
  };
  const same = old && old.state === next.state && old.record === next.record && old.breakpoint === next.breakpoint && old.paused === next.paused && old.pin === next.pin;
  return same ? old : next;
}

/** Positions the document gives, with a layout for nodes it does not place. */
function useLayout(melody: BoardMelody): Positions | undefined {
  const given = useMemo(() => {
    const out = nameRecord<Point>();
    for (const n of melody.nodes) if (n.position) out[n.id] = n.position;
    return out;
  }, [melody]);
  const needsElk = needsLayout(melody.nodes);
  const graphKey = needsElk ? melody.nodes.map((n) => `${n.id}<${n.needs.join(',')}`).join(';') : '';
  const [elk, setElk] = useState<{ key: string; positions: Positions }>();
  useEffect(() => {
    if (!needsElk || elk?.key === graphKey) return;
    let live = true;
    layoutAll(melody.nodes).then(
      (positions) => live && setElk({ key: graphKey, positions }),
      (e: unknown) => {
        if (!live) return;
        setElk({ key: graphKey, positions: placeMissing(melody.nodes, {}) });
        setStatus(`Automatic layout failed (${String(e)}); nodes are placed in rows instead`, 'error');
      },
    );
    return () => {
      live = false;
    };
  }, [graphKey, needsElk, elk?.key, melody.nodes]);
  return useMemo(() => {
    if (needsElk) return elk?.key === graphKey ? elk.positions : undefined;
    // Nodes ELK laid out keep their places when the first node gets a position of its own
    // (one added or dragged): they do not jump to make room for it.
    const known = nameRecord<Point>(Object.entries(given));
    for (const n of melody.nodes) {
      const laidOut = elk?.positions[n.id];
      if (!known[n.id] && laidOut) known[n.id] = laidOut;
    }
    return nameRecord([...Object.entries(known), ...Object.entries(placeMissing(melody.nodes, known))]);
  }, [needsElk, elk, graphKey, given, melody.nodes]);
}

function toFlowNode(n: BoardNode, position: Point, category: string | undefined, selected: boolean, overlay: NodeOverlay): MelodyFlowNode {
  return {
    id: n.id,
    type: 'melody',
    position: { x: position[0], y: position[1] },
    data: { node: n, category, overlay },
    // Known sizes let React Flow draw nodes and edges at once, without measuring 500 cards first.
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
    handles: HANDLES,
    selected,
    ariaLabel: describeNode(n, overlay),
  };
}

/** The cards that start the melody: nothing they need is on the canvas (the compensation node runs last). */
function entryIds(nodes: readonly BoardNode[]): Set<string> {
  const ids = new Set(nodes.map((n) => n.id));
  return new Set(nodes.filter((n) => !n.compensation && !n.needs.some((need) => ids.has(need) && need !== n.id)).map((n) => n.id));
}

/** The best view of the cards at `positions` on a canvas of `pane`'s size (see fit.ts). */
function viewFor(nodes: readonly BoardNode[], positions: Positions, pane: { width: number; height: number }, corners: { left: Corner; right: Corner }): View | undefined {
  const entries = entryIds(nodes);
  const box = (id: string) => {
    const p = positions[id] ?? [0, 0];
    return { x: p[0], y: p[1], width: NODE_WIDTH, height: NODE_HEIGHT };
  };
  return fitView({
    cards: nodes.map((n) => box(n.id)),
    entries: nodes.filter((n) => entries.has(n.id)).map((n) => box(n.id)),
    pane,
    corners,
    padding: FIT_PADDING,
    minZoom: READABLE_ZOOM,
    maxZoom: FIT_MAX_ZOOM,
  });
}

/** The corner a panel takes, measured on the page (from the canvas's bottom-left or bottom-right). */
function cornerOf(canvas: DOMRect, panel: Element | null | undefined, side: 'left' | 'right'): Corner {
  if (!panel) return NO_CORNER;
  const r = panel.getBoundingClientRect();
  return { width: side === 'left' ? r.right - canvas.left : canvas.right - r.left, height: canvas.bottom - r.top };
}

/** The graph of the melody on a React Flow canvas (needs a ReactFlowProvider above it). */
export function Canvas({ melody, catalog, selection, focus, placeRef, fitRef, colorMode, overlay, minimap, onMinimapChange, onPainted }: CanvasProps) {
  const flow = useReactFlow<MelodyFlowNode, Edge>();
  // Zoomed far out, text is too small to read: cards drop their details (and edges their
  // arrowheads and labels, the canvas its dots), which keeps panning a large melody smooth.
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
  const layout = useLayout(melody);
  const [nodes, setNodes] = useState<MelodyFlowNode[]>([]);
  const dragging = useRef(new Set<string>());
  const keyMoves = useRef<{ timer?: number; ids: Set<string> }>({ ids: new Set() });
  const wrapper = useRef<HTMLDivElement>(null);

  // Rebuild the canvas nodes from the document and the run, reusing unchanged ones (fast on big melodies).
  useEffect(() => {
    if (!layout) return;
    const breakpoints = new Set(overlay.breakpoints);
    setNodes((previous) => {
      const before = new Map(previous.map((n) => [n.id, n]));
      return melody.nodes.map((n) => {
        const old = before.get(n.id);
        const selected = selection.includes(n.id);
        const local = old && dragging.current.has(n.id) ? ([old.position.x, old.position.y] as const) : undefined;
        const position = local ?? layout[n.id] ?? [0, 0];
        const run = overlayOf(n, overlay, breakpoints, old?.data.overlay);
        if (old && old.data.node.rev === n.rev && old.position.x === position[0] && old.position.y === position[1] && !!old.selected === selected && old.data.overlay === run) return old;
        return toFlowNode(n, position, catalog?.kinds[n.uses]?.category, selected, run);
      });
    });
  }, [melody, layout, selection, catalog, overlay]);

  // First view: the saved viewport of this panel, the melody's, or the best fit — computed
  // before React Flow first draws, so it draws only the cards that view shows.
  const [initialView, setInitialView] = useState<Viewport | undefined>(() => {
    const saved = loadViewState().viewport;
    const v = melody.viewport;
    return saved ?? (v ? { x: v[0], y: v[1], zoom: v[2] } : undefined);
  });
  // Whether the cards have been painted: what can wait (the minimap, edge labels) waits for it.
  const painted = useAfterPaint(!!layout && !!initialView);

  const run = overlay.run;
  // Edges that look as before are reused, so a run's events redraw only the edges they light.
  const previousEdges = useRef(new Map<string, Edge>());
  const edgesRef = useRef<Edge[]>([]);
  const edges = useMemo<Edge[]>(() => {
    const byId = new Map(melody.nodes.map((n) => [n.id, n]));
    const labelled = new Set<string>();
    const next = edgesOf(melody.nodes).map(({ from, to }): Edge => {
      const condition = byId.get(to)?.condition;
      // Every edge into a conditional node is dashed; one of them carries the condition,
      // so edges converging on the node do not stack the same label.
      // Zoomed far out there is no label to read: none is drawn (nor measured, as React Flow
      // measures every label it draws — on every edge that comes into view while panning).
      // Nor before the cards are painted: React Flow measures each label it draws (a layout of
      // the page apiece, and a redraw of its edge), which the first paint need not wait for.
      const label = painted && !far && condition !== undefined && !labelled.has(to) ? `if ${shorten(condition, 30)}` : undefined;
      if (label) labelled.add(to);
      // Edges out of finished nodes light up, so the path the run took can be seen.
      const ran = edgeRunState(run, from, to);
      const id = `${from}->${to}`;
      const className = [condition !== undefined ? 'conditional' : '', ran ? `run-${ran}` : ''].join(' ').trim() || undefined;
      const ariaLabel = `${from} to ${to}${condition !== undefined ? `, runs if ${condition}` : ''}`;
      const old = previousEdges.current.get(id);
      if (old && old.label === label && old.className === className && old.ariaLabel === ariaLabel && !old.markerEnd === far) return old;
      return {
        id,
        source: from,
        target: to,
        label,
        className,
        animated: ran === 'flowing',
        markerEnd: far ? undefined : ARROW,
        ariaLabel,
      };
    });
    previousEdges.current = new Map(next.map((e) => [e.id, e]));
    edgesRef.current = next;
    return next;
  }, [melody, run, far, painted]);

  // The panels' corners, as drawn (or as they will be, before React Flow has drawn them).
  const corners = useCallback((): { left: Corner; right: Corner } => {
    const el = wrapper.current;
    const canvas = el?.getBoundingClientRect();
    const controls = el?.querySelector('.react-flow__controls');
    const map = el?.querySelector('.react-flow__minimap');
    // The minimap is drawn a frame after the cards: until then, where it will be.
    const right = !minimap ? NO_CORNER : canvas && map ? cornerOf(canvas, map, 'right') : MINIMAP_CORNER;
    return { left: canvas && controls ? cornerOf(canvas, controls, 'left') : CONTROLS_CORNER, right };
  }, [minimap]);

  // A melody ELK lays out gets React Flow at once (the canvas, its controls), before its
  // layout: when the layout lands, only the cards are left to draw. React Flow then shows
  // nothing at PENDING_VIEW until that first view is set on it (no save, no `moving`: it is
  // where the board opens, as `defaultViewport` is).
  const [shell] = useState(() => !initialView && !layout);
  const placing = useRef(false);
  const fitted = useRef(false);
  useLayoutEffect(() => {
    const el = wrapper.current;
    if (initialView || !layout || !el) return;
    const rect = el.getBoundingClientRect();
    const view = viewFor(melody.nodes, layout, rect, corners()) ?? { x: 0, y: 0, zoom: 1 };
    if (shell) {
      placing.current = true;
      void flow.setViewport(view);
    }
    setInitialView(view);
    fitted.current = true;
  }, [initialView, layout, melody.nodes, corners, shell, flow]);

  // Fits the cards where they are (dragged ones too), or where `moved` is about to put them.
  const fit = useCallback(
    (duration?: number, moved?: Positions) => {
      const el = wrapper.current;
      if (!el || !layout) return;
      const positions = nameRecord<Point>(Object.entries(layout));
      for (const n of flow.getNodes()) positions[n.id] = [n.position.x, n.position.y];
      for (const [id, p] of Object.entries(moved ?? {})) positions[id] = p;
      const view = viewFor(melody.nodes, positions, el.getBoundingClientRect(), corners());
      if (view) void flow.setViewport(view, duration ? { duration } : undefined);
    },
    [flow, layout, melody.nodes, corners],
  );
  useEffect(() => {
    fitRef.current = (moved) => fit(200, moved);
  }, [fit, fitRef]);

  // Until the user pans or zooms, keep the fit as the panel settles (the side panels and the
  // editor group change the canvas's size after the first fit) and as the minimap comes and goes.
  const userMoved = useRef(false);
  const fitLater = useRef(fit);
  fitLater.current = fit;
  useEffect(() => {
    const el = wrapper.current;
    if (!el || !fitted.current) return;
    const observer = new ResizeObserver(() => {
      if (!userMoved.current) fitLater.current();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [initialView]);
  useEffect(() => {
    if (fitted.current && !userMoved.current) fitLater.current();
  }, [minimap]);

  // Focus requests: select the node and bring it into view — unless it is already in view
  // at a readable zoom (a node just added beside the others leaves them where they are).
  useEffect(() => {
    if (!focus) return;
    const node = flow.getNode(focus.node);
    if (!node) return;
    const { x, y, zoom } = flow.getViewport();
    const pane = wrapper.current?.getBoundingClientRect();
    const left = node.position.x * zoom + x;
    const top = node.position.y * zoom + y;
    const seen = !!pane && zoom >= READABLE_ZOOM && left >= 0 && top >= 0 && left + NODE_WIDTH * zoom <= pane.width && top + NODE_HEIGHT * zoom <= pane.height;
    if (!seen) void flow.setCenter(node.position.x + NODE_WIDTH / 2, node.position.y + NODE_HEIGHT / 2, { zoom: Math.max(zoom, READABLE_ZOOM), duration: 200 });
  }, [focus, flow]);

  useEffect(() => {
    placeRef.current = (after?: string): Point => {
      const rect = wrapper.current?.getBoundingClientRect();
      const center = rect ? flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 }) : { x: 0, y: 0 };
      const positions = nameRecord<Point>();
      for (const n of flow.getNodes()) positions[n.id] = [n.position.x, n.position.y];
      return freeSpot(positions, [center.x - NODE_WIDTH / 2, center.y - NODE_HEIGHT / 2], after ? positions[after] : undefined);
    };
  }, [flow, placeRef]);

  const persistMoves = useCallback((ids: Iterable<string>) => {
    const positions = nameRecord<[number, number]>();
    for (const id of ids) {
      const n = flow.getNode(id);
      if (n) positions[id] = [Math.round(n.position.x), Math.round(n.position.y)];
    }
    if (Object.keys(positions).length) void perform({ kind: 'move', positions });
  }, [flow]);

  const onNodesChange = useCallback(
    (changes: NodeChange<MelodyFlowNode>[]) => {
      // Removal goes through onBeforeDelete (an intent); everything else is local until it settles.
      setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), ns));
      for (const c of changes) {
        if (c.type !== 'position' || !c.position) continue;
        if (c.dragging) dragging.current.add(c.id);
        else if (!dragging.current.has(c.id)) {
          // Arrow keys move a focused node without a drag: save once the keys rest.
          const moves = keyMoves.current;
          moves.ids.add(c.id);
          window.clearTimeout(moves.timer);
          moves.timer = window.setTimeout(() => {
            const ids = [...moves.ids];
            moves.ids.clear();
            persistMoves(ids);
          }, 400);
        }
      }
    },
    [persistMoves],
  );

  const onNodeDragStop = useCallback(
    (_: unknown, __: MelodyFlowNode, moved: MelodyFlowNode[]) => {
      const ids = moved.map((n) => n.id);
      persistMoves(ids);
      for (const id of ids) dragging.current.delete(id);
    },
    [persistMoves],
  );

  const onConnect = useCallback((c: Connection) => {
    if (c.source && c.target) void perform({ kind: 'connect', from: c.source, to: c.target });
  }, []);

  // Far out React Flow holds no edges (FarEdges draws them): the edges of deleted cards
  // are added here, as React Flow adds them when it holds the edges.
  const onBeforeDelete: OnBeforeDelete<MelodyFlowNode, Edge> = useCallback(async ({ nodes: gone, edges: cut }) => {
    const ids = new Set(gone.map((n) => n.id));
    const connected = edgesRef.current.filter((e) => ids.has(e.source) || ids.has(e.target));
    const all = [...new Map([...cut, ...connected].map((e) => [e.id, e])).values()];
    if (gone.length || all.length) {
      await perform({ kind: 'delete', nodes: gone.map((n) => n.id), edges: all.map((e) => ({ from: e.source, to: e.target })) });
    }
    return false;
  }, []);

  const onSelectionChange = useCallback(({ nodes: selected }: { nodes: MelodyFlowNode[] }) => {
    const ids = selected.map((n) => n.id);
    update({ selection: ids });
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      const key = event.dataTransfer.getData(PALETTE_MIME);
      if (!key) return;
      event.preventDefault();
      const p = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const at: [number, number] = [Math.round((p.x - NODE_WIDTH / 2) / GRID) * GRID, Math.round((p.y - NODE_HEIGHT / 2) / GRID) * GRID];
      void perform({ kind: 'add-node', paletteKey: key, position: at });
    },
    [flow],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(PALETTE_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  }, []);

  // While the view moves, the cards are one picture sliding under the pointer: the viewport
  // gets a layer of its own (panning then moves pixels instead of painting 500 cards anew),
  // and the cards stop reacting to the pointer (no hover repaints, no hit tests).
  const onMoveStart = useCallback((event: unknown) => {
    if (placing.current) return;
    wrapper.current?.classList.add('moving');
    // Programmatic moves (a fit) carry no event; a person's pan or zoom does.
    if (event) userMoved.current = true;
  }, []);
  const onMoveEnd = useCallback((_: unknown, viewport: Viewport) => {
    if (placing.current) {
      placing.current = false;
      return;
    }
    wrapper.current?.classList.remove('moving');
    saveViewState({ viewport });
  }, []);

  useEffect(() => {
    if (painted) onPainted?.();
  }, [painted, onPainted]);

  // The shell: React Flow without cards until the first layout (see `shell` above).
  const drawing = !!layout && !!initialView;
  if (!drawing && !(shell && !initialView)) {
    return (
      <div className="canvas-wrap" ref={wrapper}>
        {!layout && (
          <p className="canvas-note" role="status">
            Laying out {melody.nodes.length} nodes…
          </p>
        )}
      </div>
    );
  }

  return (
    <div className={`canvas-wrap${far ? ' far' : ''}`} ref={wrapper} onDrop={onDrop} onDragOver={onDragOver}>
      {!layout && (
        <p className="canvas-note over" role="status">
          Laying out {melody.nodes.length} nodes…
        </p>
      )}
      <Detail.Provider value={far ? 'far' : 'full'}>
        <ReactFlow<MelodyFlowNode, Edge>
          nodes={drawing ? nodes : NO_NODES}
          edges={!drawing || far ? NO_EDGES : edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onNodeDragStop={onNodeDragStop}
          onConnect={onConnect}
          onBeforeDelete={onBeforeDelete}
          onSelectionChange={onSelectionChange}
          onMoveStart={onMoveStart}
          onMoveEnd={onMoveEnd}
          defaultViewport={initialView ?? PENDING_VIEW}
          isValidConnection={notToItself}
          connectionLineType={ConnectionLineType.SmoothStep}
          defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
          snapToGrid
          snapGrid={SNAP_GRID}
          minZoom={0.05}
          maxZoom={2}
          onlyRenderVisibleElements
          deleteKeyCode={DELETE_KEYS}
          colorMode={colorMode}
          aria-label={`Graph of ${melody.name ?? 'the melody'}: ${melody.nodes.length} nodes. Tab to a node, Enter to select it, arrow keys to move it, Delete to remove it.`}
          ariaLabelConfig={ARIA_LABELS}
        >
          <ArrowDefinition />
          {far && <FarEdges nodes={nodes} edges={edges} handles={HANDLE_POINTS} />}
          {/* Far out the dots would be a few pixels apart: noise, and costly to paint on every frame of a pan. */}
          {!far && <Dots />}
          {minimap && painted && <MiniMap pannable zoomable ariaLabel="Overview of the melody" nodeStrokeWidth={3} style={MINIMAP} />}
          <Controls aria-label="Zoom controls" showInteractive={false} showFitView={false}>
            <ControlButton onClick={() => fit(200)} title="Fit the melody in view" aria-label="Fit the melody in view">
              ⤢
            </ControlButton>
            <ControlButton
              onClick={() => onMinimapChange(!minimap)}
              title={minimap ? 'Hide the minimap' : 'Show the minimap'}
              aria-label={minimap ? 'Hide the minimap' : 'Show the minimap'}
              aria-pressed={minimap}
              className="minimap-toggle"
            >
              ▣
            </ControlButton>
          </Controls>
        </ReactFlow>
      </Detail.Provider>
    </div>
  );
}
