import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { findCycles, levels } from '../../src/core/engine/graph';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe('graph', () => {
  it('finds no cycle in a DAG and levels it', () => {
    const g = graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] });
    assert.deepEqual(findCycles(g), []);
    assert.deepEqual(levels(g), [['a'], ['b', 'c'], ['d']]);
  });

  it('finds each cycle once, ordered along its edges', () => {
    const g = graph({ a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'], f: ['g'], g: ['f'] });
    const cycles = findCycles(g).map((c) => c.join('>')).sort();
    assert.deepEqual(cycles, ['a>b>c', 'd', 'f>g']);
  });

  it('ignores edges to unknown nodes', () => {
    assert.deepEqual(findCycles(graph({ a: ['missing'] })), []);
  });

  it('handles a 10,000-deep chain without overflowing the stack', () => {
    const g = new Map<string, string[]>();
    for (let i = 0; i < 10_000; i++) g.set(`n${i}`, i ? [`n${i - 1}`] : []);
    g.set('n0', ['n9999']);
    assert.equal(findCycles(g)[0]?.length, 10_000);
  });

  it('reports a cycle exactly when a topological order does not exist (property)', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...ids), fc.constantFrom(...ids)), { maxLength: 12 }), (edges) => {
        const g = new Map<string, string[]>(ids.map((i) => [i, []]));
        for (const [from, to] of edges) g.get(from)!.push(to);
        const cyclic = findCycles(g).length > 0;
        let ordered = true;
        try {
          levels(g);
        } catch {
          ordered = false;
        }
        assert.equal(cyclic, !ordered);
        // Every reported cycle is real: each member reaches the next along an edge.
        for (const cycle of findCycles(g)) {
          const members = new Set(cycle);
          for (const m of cycle) assert.ok(g.get(m)!.some((n) => members.has(n)), `${m} has no edge inside its cycle`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
