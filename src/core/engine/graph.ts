/**
 * The dependency graph of a melody: node ids and the `needs` edges between them.
 * Used by the loader (cycles) and by the scheduler (order, levels).
 */

/** Each node id with the ids it needs. */
export type NeedsGraph = ReadonlyMap<string, readonly string[]>;

/**
 * The cycles of the graph, one per strongly connected component that loops: each is the
 * list of its nodes in an order that follows `needs` edges (`a → b → c` means a needs b,
 * b needs c, c needs a). Edges to unknown nodes are ignored. Tarjan's algorithm, iterative
 * so deep graphs cannot overflow the stack.
 */
export function findCycles(graph: NeedsGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1]!;
      const edges = (graph.get(frame.id) ?? []).filter((n) => graph.has(n));
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.id);
        const selfLoop = component.length === 1 && (graph.get(frame.id) ?? []).includes(frame.id);
        if (component.length > 1 || selfLoop) components.push(orderAlongEdges(component, graph));
      }
    }
  }
  return components;
}

/** Orders a component's nodes along needs-edges from its first-declared node. */
function orderAlongEdges(component: string[], graph: NeedsGraph): string[] {
  const members = new Set(component);
  const declared = [...graph.keys()].filter((k) => members.has(k));
  const start = declared[0]!;
  const ordered = [start];
  const seen = new Set(ordered);
  let cur = start;
  for (;;) {
    const next = (graph.get(cur) ?? []).find((n) => members.has(n) && !seen.has(n));
    if (!next) break;
    ordered.push(next);
    seen.add(next);
    cur = next;
  }
  // Members not on that path still belong to the tangle; name them too.
  for (const m of declared) if (!seen.has(m)) ordered.push(m);
  return ordered;
}

/**
 * Topological levels: level 0 holds nodes with no needs, level k nodes whose deepest need
 * is on level k-1. Assumes the graph is acyclic.
 */
export function levels(graph: NeedsGraph): string[][] {
  const depth = new Map<string, number>();
  const visit = (id: string, trail: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (trail.has(id)) throw new Error(`cycle through ${id}`);
    trail.add(id);
    let d = 0;
    for (const n of graph.get(id) ?? []) if (graph.has(n)) d = Math.max(d, visit(n, trail) + 1);
    trail.delete(id);
    depth.set(id, d);
    return d;
  };
  const out: string[][] = [];
  for (const id of graph.keys()) {
    const d = visit(id, new Set());
    (out[d] ??= []).push(id);
  }
  return out;
}
