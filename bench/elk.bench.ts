// ELK alone on the board bench's 500-node melody, in Node: how long the layout takes
// compiled cold (as the board's worker meets it: once per opening) and warmer, and which of
// ELK's phases the time goes to, as ELK itself reports them. The board bench times the
// same layout end to end in Chromium; this says where inside ELK to look.
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
import { boardDocument } from '../src/core/board/model';
import { elkGraph } from '../webview/src/canvas/elkGraph';
import { generatedMelody } from './board.bench';
import type { Bench, Figure } from './index';

const NODES = 500;
/** Layouts after the first: the last one's phases are reported. */
const MORE = 2;

/** What ELK reports of a layout when asked to log it and time it. */
interface ElkLog {
  readonly name: string;
  readonly executionTime?: number;
  readonly children?: readonly ElkLog[];
}

/** Each phase of the layered algorithm with its share of the component layout's time. */
function phaseShares(log: ElkLog): Map<string, number> {
  const find = (l: ElkLog): ElkLog | undefined => (l.name === 'Component Layout' ? l : l.children?.map(find).find((c) => c));
  const component = find(log);
  const shares = new Map<string, number>();
  const total = component?.executionTime ?? 0;
  if (!component || !total) return shares;
  for (const phase of component.children ?? []) shares.set(phase.name, (phase.executionTime ?? 0) / total);
  return shares;
}

/** Registered with `npm run bench` (bench/index.ts); `npm run bench elk` runs only this. */
export const bench: Bench = {
  title: `ELK's layered layout of the ${NODES}-node bench melody, in Node`,
  async run(): Promise<Figure[]> {
    const document = boardDocument(generatedMelody(NODES, false), 'generated.melody.yaml', { fileName: 'generated.melody.yaml', version: 1 });
    const nodes = document.melody?.nodes;
    if (nodes?.length !== NODES) throw new Error(`the generated melody has ${nodes?.length} nodes`);
    const graph = elkGraph(nodes);
    const elk = new ELK();
    const layout = async (logged: boolean): Promise<{ ms: number; out: ElkNode & { logging?: ElkLog } }> => {
      const started = performance.now();
      // ELK writes its answer into the graph it is given: each layout gets a copy.
      const out = await elk.layout(structuredClone(graph), logged ? ({ logging: true, measureExecutionTime: true } as object) : undefined);
      return { ms: performance.now() - started, out };
    };
    const first = await layout(false);
    let last = first;
    for (let i = 0; i < MORE; i++) last = await layout(i === MORE - 1);
    const edges = graph.edges?.length ?? 0;
    const figures: Figure[] = [
      { name: 'first layout in the process (compiled as it runs)', value: first.ms, unit: 'ms', note: `${NODES} nodes, ${edges} edges; the options the board gives a big melody (elkGraph.ts)` },
      { name: `layout number ${MORE + 1} in the process`, value: last.ms, unit: 'ms', note: 'timed with ELK logging its phases' },
    ];
    const shares = [...phaseShares(last.out.logging ?? { name: '' })].sort((a, b) => b[1] - a[1]);
    if (shares.length === 0) throw new Error('ELK reported no phases of its layout');
    for (const [name, share] of shares.slice(0, 4)) figures.push({ name: `  share of the layered layout: ${name}`, value: share * 100, unit: '%', note: 'as ELK times its own phases' });
    return figures;
  },
};
