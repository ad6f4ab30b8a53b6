/** A node card on the canvas: kind, label, instrument, condition and problems at a glance. */
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import type { BoardNode } from '../../../src/protocol/boardModel';
import { accentOf, glyphOf, shorten } from './kinds';

/** What a canvas node carries: the melody node and its palette category. */
export type MelodyNodeData = { node: BoardNode; category?: string };
/** A canvas node of the board's one node type. */
export type MelodyFlowNode = Node<MelodyNodeData, 'melody'>;

/** The sentence a screen reader hears for a node. */
export function describeNode(n: BoardNode): string {
  const parts = [`${n.label}${n.label !== n.id ? ` (${n.id})` : ''}`, n.instrument ? `instrument ${n.instrument}` : `${n.uses} node`];
  if (n.compensation) parts.push('runs only when the run fails');
  if (n.needs.length) parts.push(`needs ${n.needs.join(', ')}`);
  if (n.condition) parts.push(`runs if ${n.condition}`);
  if (n.loop) parts.push(`loops ${n.loop}`);
  if (n.errors) parts.push(`${n.errors} error${n.errors === 1 ? '' : 's'}`);
  if (n.warnings) parts.push(`${n.warnings} warning${n.warnings === 1 ? '' : 's'}`);
  return parts.join(', ');
}

function MelodyNodeView({ data, selected }: NodeProps<MelodyFlowNode>) {
  const n = data.node;
  const classes = ['mnode', selected ? 'selected' : '', n.errors ? 'has-errors' : n.warnings ? 'has-warnings' : '', n.compensation ? 'compensation' : ''];
  return (
    <div className={classes.join(' ')} style={{ ['--accent' as string]: accentOf(data.category) }} data-node-id={n.id}>
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
  );
}

/** Re-renders only when the node's content or its selection changes. */
export const MelodyNode = memo(MelodyNodeView, (a, b) => a.data.node.rev === b.data.node.rev && a.selected === b.selected && a.data.category === b.data.category);
