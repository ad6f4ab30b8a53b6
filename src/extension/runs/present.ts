import type { NodeRecord, RunEvent, RunRecord } from '../../core/model/run';
import { eventClock, eventLines, formatDuration, nodeFacts, plural } from '../../protocol/runText';
import type { RunPhase } from './history';

// No `vscode` import: how runs read as text is plain and unit-tested without VS Code.

/** Re-exported: the extension's run surfaces format durations from here. */
export { formatDuration };

/** `14:03:05` of an ISO time, in UTC as the journal keeps it. */
const clock = (iso: string) => iso.slice(11, 19);

/**
 * A node's row text after its id: its state first (the icon repeats it for the eye; the
 * words are for screen readers and tests), then what the board's cards show too.
 */
export function nodeDescription(node: NodeRecord): string {
  return [node.state, ...nodeFacts(node)].join(' · ');
}

/** A run's row text after its melody name. */
export function runDescription(run: RunRecord, phase: RunPhase): string {
  const nodes = Object.values(run.nodes);
  switch (phase) {
    case 'live': {
      const done = nodes.filter((n) => n.state !== 'running' && n.state !== 'pending').length;
      return `running · ${done} done · started ${clock(run.startedAt)}`;
    }
    case 'elsewhere':
      return `running in another process · started ${clock(run.startedAt)}`;
    case 'interrupted':
      return `interrupted · started ${clock(run.startedAt)}`;
    case 'ended':
      return `${run.state}${run.durationMs !== undefined ? ` · ${formatDuration(run.durationMs)}` : ''} · ${clock(run.startedAt)}`;
  }
}

/** Text in a Markdown code block that no backtick inside it can close. */
export function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/** The Markdown tooltip of a node row. */
export function nodeTooltip(id: string, node: NodeRecord): string {
  const lines = [`**${id}** — ${node.state}`, ''];
  if (node.durationMs !== undefined) lines.push(`Duration: ${formatDuration(node.durationMs)}  `);
  if (node.attempts) lines.push(`Attempts: ${node.attempts}  `);
  if (node.iterations > 1) lines.push(`Iterations: ${node.iterations}  `);
  if (node.instrument) lines.push(`Instrument: \`${node.instrument}\`  `);
  if (node.tokens) lines.push(`Tokens: ${node.tokens.input} in / ${node.tokens.output} out  `);
  if (node.reason) lines.push('', `Why: ${node.reason}`);
  if (node.error) lines.push('', fenced(node.error));
  return lines.join('\n');
}

/** The Markdown tooltip of a run row. */
export function runTooltip(run: RunRecord, phase: RunPhase): string {
  const lines = [`**${run.melody}** — \`${run.file}\``, '', `Run \`${run.runId}\`, started ${run.startedAt} (${run.trigger.kind}${run.trigger.detail ? `: ${run.trigger.detail}` : ''})  `];
  if (run.parent) lines.push(`Sub-melody run of node \`${run.parent.nodeId}\` in run \`${run.parent.runId}\`  `);
  if (run.replayOf) lines.push(`Replay of \`${run.replayOf.runId}\` from node \`${run.replayOf.from}\`  `);
  if (run.resumes) lines.push(`Resumed ${plural(run.resumes, 'time')}  `);
  if (Object.keys(run.inputs).length) lines.push(`Inputs: \`${JSON.stringify(run.inputs)}\`  `);
  if (run.tokens.input || run.tokens.output || run.costUsd) lines.push(`Tokens: ${run.tokens.input} in / ${run.tokens.output} out · $${run.costUsd.toFixed(4)}  `);
  if (phase === 'elsewhere') lines.push('', 'Running in another process (the CLI, another window): cancel it there.');
  if (phase === 'interrupted') {
    lines.push('', 'The process that ran it stopped before it ended (a closed window, a killed terminal). **Resume Run** continues it without repeating the nodes that finished.');
  }
  if (run.error && run.state === 'failure') lines.push('', fenced(run.error));
  return lines.join('\n');
}

/** A node output as a document: text as it is, anything else as pretty-printed JSON. */
export function outputDocument(value: unknown): { readonly text: string; readonly language: 'plaintext' | 'json' } {
  if (typeof value === 'string') return { text: value, language: 'plaintext' };
  return { text: `${JSON.stringify(value ?? null, null, 2)}\n`, language: 'json' };
}

/** What one run's documents are: its transcript, or a node's output or log. */
export type RunDocument =
  | { readonly kind: 'run-log'; readonly runId: string }
  | { readonly kind: 'node-log'; readonly runId: string; readonly nodeId: string }
  | { readonly kind: 'output'; readonly runId: string; readonly nodeId: string; readonly format: 'json' | 'txt' };

/**
 * The path of a run document inside the `symphony-run:` scheme. The last segment is the
 * editor tab's title and its extension picks the language: `/<run>/test.output.json`,
 * `/<run>/test.log`, `/<run>.log`.
 */
export function runDocumentPath(doc: RunDocument): string {
  const run = encodeURIComponent(doc.runId);
  switch (doc.kind) {
    case 'run-log':
      return `/${run}.log`;
    case 'node-log':
      return `/${run}/${encodeURIComponent(doc.nodeId)}.log`;
    case 'output':
      return `/${run}/${encodeURIComponent(doc.nodeId)}.output.${doc.format}`;
  }
}

/** The inverse of `runDocumentPath`; undefined for a path it did not make. */
export function parseRunDocumentPath(path: string): RunDocument | undefined {
  const [empty, first, second, ...rest] = path.split('/');
  if (empty !== '' || !first || rest.length) return undefined;
  if (second === undefined) {
    const run = /^(.+)\.log$/.exec(first);
    return run ? { kind: 'run-log', runId: decodeURIComponent(run[1]!) } : undefined;
  }
  const runId = decodeURIComponent(first);
  // Node ids hold no dot, so the first dot starts the suffix.
  const node = /^([^.]+)\.(log|output\.json|output\.txt)$/.exec(second);
  if (!node) return undefined;
  const nodeId = decodeURIComponent(node[1]!);
  return node[2] === 'log' ? { kind: 'node-log', runId, nodeId } : { kind: 'output', runId, nodeId, format: node[2] === 'output.json' ? 'json' : 'txt' };
}

/**
 * The log of one node as written, with an agent's tool calls on lines of their own where
 * they happened (a call's line starts after any partial line of output).
 */
function logOf(events: readonly RunEvent[], nodeId: string): string {
  let out = '';
  for (const e of events) {
    if (e.type === 'node-log' && e.nodeId === nodeId) out += e.text;
    else if (e.type === 'node-tool' && e.nodeId === nodeId) out += `${out && !out.endsWith('\n') ? '\n' : ''}${eventLines(e).map((l) => l.trimStart()).join('\n')}\n`;
  }
  return out;
}

/** A node's log document: how it ended (error, reason), then what it wrote. */
export function nodeLogText(events: readonly RunEvent[], nodeId: string, node: NodeRecord | undefined): string {
  const head = [`${nodeId} — ${node ? nodeDescription(node) : 'not started'}`];
  if (node?.instrument) head.push(`instrument: ${node.instrument}`);
  if (node?.reason) head.push(`why: ${node.reason}`);
  if (node?.error) head.push(`error: ${node.error}`);
  const log = logOf(events, nodeId);
  return `${head.join('\n')}\n\n${log || '(no output was logged)\n'}`;
}

/** The transcript of a run: one timed line per event, node logs indented under them. */
export function runTranscript(events: readonly RunEvent[]): string {
  const out = events.flatMap((e) => eventLines(e).map((line) => `${eventClock(e)} ${line}`));
  return `${out.join('\n')}\n`;
}
