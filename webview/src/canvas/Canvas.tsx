/**
 * The canvas: React Flow showing the melody's nodes and needs. It renders the document
 * and turns gestures into intents — a drag into `move`, a new edge into `connect`, the
 * Delete key into `delete`, a drop from the palette into `add-node`. It never changes the
 * graph by itself: the document that comes back is what it draws. Over it lies the run
 * overlay: each card's status from the latest run, lit edges, breakpoints and pins.
 */
import {
  Background,
  BackgroundVariant,
  ConnectionLineType,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
  useStore,
  type Connection,
  type Edge,
  type NodeChange,
  type OnBeforeDelete,
  type Viewport,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import type { RunRecord } from '../../../src/core/model/run';
import type { BoardCatalog, BoardMelody, BoardNode } from '../../../src/protocol/boardModel';
import { edgeRunState, nodeState, type Pins } from '../../../src/protocol/boardRun';
import { perform } from '../actions';
import { loadViewState, saveViewState } from '../host';
import { setStatus, update } from '../store';
import { GRID, NODE_HEIGHT, NODE_WIDTH, edgesOf, freeSpot, layoutAll, placeMissing, type Point, type Positions } from './layout';
import { MelodyNode, describeNode, type MelodyFlowNode, type NodeOverlay } from './MelodyNode';
import { shorten } from './kinds';
import { nameRecord, own } from '../../../src/core/model/names';

/** The MIME type a palette entry is dragged with. */
export const PALETTE_MIME = 'application/x-symphony-palette';

const nodeTypes = { melody: MelodyNode };

/** Below this zoom the canvas draws less detail (see the `far` class in board.css). */
const FAR_ZOOM = 0.4;

interface CanvasProps {
  readonly melody: BoardMelody;
  readonly catalog: BoardCatalog | undefined;
  readonly selection: readonly string[];
  readonly focus: { readonly node: string; readonly seq: number } | undefined;
  /** Lets the palette ask where a new node should go. */
  readonly placeRef: { current: ((after?: string) => Point) | undefined };
  readonly colorMode: 'light' | 'dark';
  /** What the run overlay draws. */
  readonly overlay: CanvasOverlay;
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
  const unplaced = melody.nodes.filter((n) => !n.position);
  const needsElk = unplaced.length > 0 && unplaced.length === melody.nodes.length;
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
    return nameRecord([...Object.entries(given), ...Object.entries(placeMissing(melody.nodes, given))]);
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
    selected,
    ariaLabel: describeNode(n, overlay),
  };
}

/** The graph of the melody on a React Flow canvas (needs a ReactFlowProvider above it). */
export function Canvas({ melody, catalog, selection, focus, placeRef, colorMode, overlay }: CanvasProps) {
  const flow = useReactFlow<MelodyFlowNode, Edge>();
  // Zoomed far out, text is too small to read: cards drop their details (and edges their
  // arrowheads and labels), which keeps panning a large melody smooth.
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

  const run = overlay.run;
  // Edges that look as before are reused, so a run's events redraw only the edges they light.
  const previousEdges = useRef(new Map<string, Edge>());
  const edges = useMemo<Edge[]>(() => {
    const byId = new Map(melody.nodes.map((n) => [n.id, n]));
    const labelled = new Set<string>();
    const next = edgesOf(melody.nodes).map(({ from, to }): Edge => {
      const condition = byId.get(to)?.condition;
      // Every edge into a conditional node is dashed; one of them carries the condition,
      // so edges converging on the node do not stack the same label.
      const label = condition !== undefined && !labelled.has(to) ? `if ${shorten(condition, 30)}` : undefined;
      if (label) labelled.add(to);
      // Edges out of finished nodes light up, so the path the run took can be seen.
      const ran = edgeRunState(run, from, to);
      const id = `${from}->${to}`;
      const className = [condition !== undefined ? 'conditional' : '', ran ? `run-${ran}` : ''].join(' ').trim() || undefined;
      const ariaLabel = `${from} to ${to}${condition !== undefined ? `, runs if ${condition}` : ''}`;
      const old = previousEdges.current.get(id);
      if (old && old.label === label && old.className === className && old.ariaLabel === ariaLabel) return old;
      return {
        id,
        source: from,
        target: to,
        label,
        className,
        animated: ran === 'flowing',
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        ariaLabel,
      };
    });
    previousEdges.current = new Map(next.map((e) => [e.id, e]));
    return next;
  }, [melody, run]);

  // First view: the saved viewport of this panel, the melody's, or everything in view
  // (React Flow fits once it has measured the nodes).
  const initialViewport = useRef<Viewport | undefined | null>(null);
  if (initialViewport.current === null) {
    const v = melody.viewport;
    initialViewport.current = loadViewState().viewport ?? (v ? { x: v[0], y: v[1], zoom: v[2] } : undefined);
  }

  // Until the user pans or zooms, keep the whole melody in view as the panel settles
  // (the side panels and the editor group change the canvas's size after the first fit).
  const userMoved = useRef(false);
  useEffect(() => {
    const el = wrapper.current;
    if (!el || initialViewport.current) return;
    const observer = new ResizeObserver(() => {
      if (!userMoved.current) void flow.fitView({ padding: 0.2, maxZoom: 1.2 });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [flow, layout]);

  // Focus requests: select the node and bring it into view.
  useEffect(() => {
    if (!focus) return;
    const node = flow.getNode(focus.node);
    if (node) void flow.setCenter(node.position.x + NODE_WIDTH / 2, node.position.y + NODE_HEIGHT / 2, { zoom: Math.max(flow.getZoom(), 0.8), duration: 200 });
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

  const onBeforeDelete: OnBeforeDelete<MelodyFlowNode, Edge> = useCallback(async ({ nodes: gone, edges: cut }) => {
    if (gone.length || cut.length) {
      await perform({ kind: 'delete', nodes: gone.map((n) => n.id), edges: cut.map((e) => ({ from: e.source, to: e.target })) });
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

  const onMoveStart = useCallback((event: unknown) => {
    // Programmatic moves (fitView) carry no event; a person's pan or zoom does.
    if (event) userMoved.current = true;
  }, []);
  const onMoveEnd = useCallback((_: unknown, viewport: Viewport) => saveViewState({ viewport }), []);

  if (!layout) {
    return (
      <div className="canvas-wrap" ref={wrapper}>
        <p className="canvas-note" role="status">
          Laying out {melody.nodes.length} nodes…
        </p>
      </div>
    );
  }

  return (
    <div className={`canvas-wrap${far ? ' far' : ''}`} ref={wrapper} onDrop={onDrop} onDragOver={onDragOver}>
      <ReactFlow<MelodyFlowNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={onConnect}
        onBeforeDelete={onBeforeDelete}
        onSelectionChange={onSelectionChange}
        onMoveStart={onMoveStart}
        onMoveEnd={onMoveEnd}
        fitView={!initialViewport.current}
        fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
        defaultViewport={initialViewport.current ?? undefined}
        isValidConnection={(c) => c.source !== c.target}
        connectionLineType={ConnectionLineType.SmoothStep}
        defaultEdgeOptions={{ type: 'smoothstep' }}
        snapToGrid
        snapGrid={[GRID, GRID]}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements
        deleteKeyCode={['Delete', 'Backspace']}
        colorMode={colorMode}
        aria-label={`Graph of ${melody.name ?? 'the melody'}: ${melody.nodes.length} nodes. Tab to a node, Enter to select it, arrow keys to move it, Delete to remove it.`}
        ariaLabelConfig={{ 'node.a11yDescription.default': 'Press Enter to select this node and open it in the inspector. Arrow keys move it; Delete removes it.' }}
      >
        <Background variant={BackgroundVariant.Dots} gap={GRID} size={1} />
        <MiniMap pannable zoomable ariaLabel="Overview of the melody" nodeStrokeWidth={3} />
        <Controls aria-label="Zoom controls" showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
