/**
 * The melody as a list: every node with its kind and needs, in file order. The canvas is
 * a picture; this is the same graph for a screen reader or a keyboard, and a fast way to
 * find a node in a large melody.
 */
import { useMemo, useState } from 'react';
import type { BoardNode } from '../../../src/protocol/boardModel';
import { glyphOf } from '../canvas/kinds';
import { focusNode } from '../store';

/** Every node as a button; activating one selects it and shows it on the canvas. */
export function Outline({ nodes, selection }: { nodes: readonly BoardNode[]; selection: readonly string[] }) {
  const [filter, setFilter] = useState('');
  const shown = useMemo(() => {
    const f = filter.toLowerCase();
    return f ? nodes.filter((n) => `${n.id} ${n.label} ${n.uses} ${n.instrument ?? ''}`.toLowerCase().includes(f)) : nodes;
  }, [nodes, filter]);
  return (
    <section className="outline" aria-label="Outline">
      <input className="palette-search" type="search" aria-label="Filter the nodes" placeholder="Filter nodes…" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <ul aria-label={`${shown.length} of ${nodes.length} nodes`}>
        {shown.map((n) => (
          <li key={n.id}>
            <button type="button" className={`outline-item${selection.includes(n.id) ? ' selected' : ''}`} aria-current={selection.includes(n.id) || undefined} onClick={() => focusNode(n.id)}>
              <span aria-hidden="true" className="palette-glyph">
                {glyphOf(n.uses)}
              </span>
              <span className="outline-text">
                <span className="outline-id">
                  {n.id}
                  {n.errors > 0 && <span className="mnode-badge error">{n.errors}</span>}
                </span>
                <span className="palette-detail">
                  {n.instrument ?? n.uses}
                  {n.needs.length ? ` · needs ${n.needs.join(', ')}` : ''}
                  {n.condition !== undefined ? ` · if ${n.condition}` : ''}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
