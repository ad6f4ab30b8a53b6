/**
 * A node card on the canvas: kind, label, instrument, condition and problems at a glance —
 * and, once the melody has run, the node's status badge with its duration, attempts,
 * tokens and cost under the card; its breakpoint (a red dot) and its pinned output.
 */
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';
import type { NodeRecord, NodeState } from '../../../src/core/model/run';
import type { BoardNode } from '../../../src/protocol/boardModel';
import { nodeRunLine, nodeRunWords } from '../../../src/protocol/boardRun';
import { toggleBreakpoints } from '../run/runActions';
import { accentOf, glyphOf, shorten } from './kinds';

/** How a node stands in the run the board shows, and what the debugger and preview say of it. */
export interface NodeOverlay {
  /** Undefined before the melody has run (nothing to show). */
  readonly state?: NodeState;
  /** Its record in the run; unchanged records keep their identity, so cards redraw only when theirs changes. */
  readonly record?: NodeRecord;
  readonly breakpoint: boolean;
  /** The run is paused before this node. */
  readonly paused: boolean;
  /** An output is pinned to it; `used` when Run uses pins (preview on). */
  readonly pin?: 'used' | 'unused';
}

/** No run, no breakpoint, no pin. */
export const NO_OVERLAY: NodeOverlay = { breakpoint: false, paused: false };

/** What a canvas node carries: the melody node, its palette category and its run overlay. */
export type MelodyNodeData = { node: BoardNode; category?: string; overlay: NodeOverlay };
/** A canvas node of the board's one node type. */
export type MelodyFlowNode = Node<MelodyNodeData, 'melody'>;

/** The badge of each state: a glyph for the eye (the words go to screen readers). */
const BADGE: Readonly<Record<NodeState, string>> = {
  pending: '◌',
  running: '⟳',
  success: '✓',
  failure: '✗',
  skipped: '⤼',
  cancelled: '⊘',
};

/** The sentence a screen reader hears for a node. */
export function describeNode(n: BoardNode, overlay: NodeOverlay = NO_OVERLAY): string {
  const parts = [`${n.label}${n.label !== n.id ? ` (${n.id})` : ''}`, n.instrument ? `instrument ${n.instrument}` : `${n.uses} node`];
  if (n.compensation) parts.push('runs only when the run fails');
  if (n.needs.length) parts.push(`needs ${n.needs.join(', ')}`);
  if (n.condition) parts.push(`runs if ${n.condition}`);
  if (n.loop) parts.push(`loops ${n.loop}`);
  if (n.errors) parts.push(`${n.errors} error${n.errors === 1 ? '' : 's'}`);
  if (n.warnings) parts.push(`${n.warnings} warning${n.warnings === 1 ? '' : 's'}`);
  if (overlay.paused) parts.push('the run is paused before it');
  else if (overlay.state) parts.push(nodeRunWords(overlay.state, overlay.record));
  if (overlay.breakpoint) parts.push('breakpoint');
  if (overlay.pin) parts.push(overlay.pin === 'used' ? 'output pinned' : 'output pinned, not used: preview is off');
  return parts.join(', ');
}

/**
 * How much a card shows: everything, or — zoomed so far out that no text could be read —
 * a plain card in its kind's colour and its run state, with no text, badges or handles.
 * Given by the canvas; a change redraws every card once, never on a pan.
 */
export const Detail = createContext<'full' | 'far'>('full');

function MelodyNodeView({ data, selected }: NodeProps<MelodyFlowNode>) {
  const n = data.node;
  const o = data.overlay;
  const detail = useContext(Detail);
  const classes = [
    'mnode',
    selected ? 'selected' : '',
    n.errors ? 'has-errors' : n.warnings ? 'has-warnings' : '',
    n.compensation ? 'compensation' : '',
    o.state ? `run-${o.state}` : '',
    o.record?.cached && o.state === 'success' ? 'run-cached' : '',
    o.paused ? 'paused' : '',
  ];
  if (detail === 'far') {
    classes.push('plain');
    return <div className={classes.join(' ')} style={{ ['--accent' as string]: accentOf(data.category) }} data-node-id={n.id} data-run-state={o.state} />;
  }
  const line = o.record && o.state !== 'running' ? nodeRunLine(o.record) : undefined;
  return (
    <>
      <button
        type="button"
        // Keyboard users toggle breakpoints with F9 or the inspector: one tab stop per card is enough.
        tabIndex={-1}
        className={`mnode-breakpoint nodrag nopan${o.breakpoint ? ' on' : ''}`}
        title={o.breakpoint ? `Remove the breakpoint on ${n.id} (F9)` : `Pause before ${n.id} runs (F9)`}
        aria-hidden="true"
        onClick={(e) => {
          e.stopPropagation();
          toggleBreakpoints([n.id]);
        }}
      />
      <div className={classes.join(' ')} style={{ ['--accent' as string]: accentOf(data.category) }} data-node-id={n.id} data-run-state={o.state}>
        <Handle type="target" position={Position.Left} className="mnode-handle" aria-label={`${n.id} input`} />
        <div className="mnode-head">
          <span className="mnode-glyph" aria-hidden="true">
            {glyphOf(n.uses)}
          </span>
          <span className="mnode-label" title={n.description ?? n.label}>
            {n.label}
          </span>
          {n.errors > 0 && <span className="mnode-badge error" aria-hidden="true">{n.errors}</span>}
          {n.errors === 0 && n.warnings > 0 && <span className="mnode-badge warning" aria-hidden="true">{n.warnings}</span>}
          {o.pin && (
            <span className={`mnode-pin ${o.pin}`} aria-hidden="true" title={o.pin === 'used' ? 'Pinned output: preview runs skip this node' : 'Pinned output (preview is off, so the node runs)'}>
              ⚑
            </span>
          )}
          {o.paused ? (
            <span className="mnode-status paused" aria-hidden="true" title="The run is paused before this node">
              ‖
            </span>
          ) : (
            o.state && (
              <span className={`mnode-status ${o.state}`} aria-hidden="true" title={o.state}>
                {BADGE[o.state]}
              </span>
            )
          )}
        </div>
        <div className="mnode-sub" aria-hidden="true">
          {n.instrument ?? n.uses}
          {n.label !== n.id && <span className="mnode-id"> · {n.id}</span>}
        </div>
        <div className="mnode-flags" aria-hidden="true">
          {n.condition !== undefined && <span title={`if ${n.condition}`}>if {shorten(n.condition, 26)}</span>}
          {n.loop && <span title={`loop ${n.loop}`}>↻ loop</span>}
          {n.continueOnError && <span title="continue-on-error">skip on error</span>}
          {n.compensation && <span title="on-failure.compensate">on failure</span>}
        </div>
        <Handle type="source" position={Position.Right} className="mnode-handle" aria-label={`${n.id} output`} />
      </div>
      {line && (
        <div className={`mnode-run run-${o.state}`} aria-hidden="true" title={line}>
          {line}
        </div>
      )}
    </>
  );
}

/** Re-renders only when the node's content, its selection or its overlay changes. */
export const MelodyNode = memo(
  MelodyNodeView,
  (a, b) => a.data.node.rev === b.data.node.rev && a.selected === b.selected && a.data.category === b.data.category && a.data.overlay === b.data.overlay,
);
