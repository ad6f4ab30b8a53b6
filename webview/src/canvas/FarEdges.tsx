/**
 * The edges, zoomed far out: every edge a path in one SVG, drawn under the cards. React
 * Flow draws each edge as an SVG of its own, with an invisible wide path for the pointer
 * and a store subscription that runs on every frame of a pan: on the bench's 500-node
 * melody that is 895 SVGs, and the page re-layerizes all their paint chunks on every frame
 * of a pan (the frame's largest cost after the pointer's hit tests). Far out, where edges
 * have no labels or arrowheads and cannot be drawn from (cards have no handles), the
 * canvas draws them here instead: the same smooth-step paths from the same handle points,
 * with the same classes (conditional, run state, animated), so they look as React Flow's.
 */
import { EdgeLabelRenderer, Position, getSmoothStepPath, type Edge } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { MelodyFlowNode } from './MelodyNode';

/** Where an edge leaves and enters a card, relative to the card (its handles' points, as React Flow computes them). */
export interface HandlePoints {
  readonly source: { readonly x: number; readonly y: number };
  readonly target: { readonly x: number; readonly y: number };
}

interface FarEdgesProps {
  readonly nodes: readonly MelodyFlowNode[];
  readonly edges: readonly Edge[];
  readonly handles: HandlePoints;
}

function FarEdgesView({ nodes, edges, handles }: FarEdgesProps) {
  const paths = useMemo(() => {
    const at = new Map(nodes.map((n) => [n.id, n.position]));
    return edges.flatMap((e) => {
      const from = at.get(e.source);
      const to = at.get(e.target);
      if (!from || !to) return [];
      const [d] = getSmoothStepPath({
        sourceX: from.x + handles.source.x,
        sourceY: from.y + handles.source.y,
        sourcePosition: Position.Right,
        targetX: to.x + handles.target.x,
        targetY: to.y + handles.target.y,
        targetPosition: Position.Left,
      });
      const className = ['react-flow__edge', 'react-flow__edge-smoothstep', e.className ?? '', e.animated ? 'animated' : ''].join(' ').replace(/\s+/g, ' ').trim();
      return [{ id: e.id, d, className }];
    });
  }, [nodes, edges, handles]);
  return (
    <EdgeLabelRenderer>
      <svg className="far-edges" aria-hidden="true">
        {paths.map((p) => (
          <g key={p.id} className={p.className} data-id={p.id}>
            <path className="react-flow__edge-path" d={p.d} fill="none" />
          </g>
        ))}
      </svg>
    </EdgeLabelRenderer>
  );
}

/** Redrawn when the cards, the edges or their classes change — never on a pan. */
export const FarEdges = memo(FarEdgesView);
