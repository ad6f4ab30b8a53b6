import type { NodeRecord, RunEvent, RunRecord } from '../../core/model/run';
import type { RunPhase } from './history';

// No `vscode` import: how runs read as text is plain and unit-tested without VS Code.

/** `850ms`, `1.2s`, `2m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.floor(s % 60))}s`;
  return `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `14:03:05` of an ISO time, in UTC as the journal keeps it. */
const clock = (iso: string) => iso.slice(11, 19);

/**
 * A node's row text after its id: its state first (the icon repeats it for the eye; the
 * words are for screen readers and tests), then duration, attempts and iterations.
 */
export function nodeDescription(node: NodeRecord): string {
  const parts: string[] = [node.state];
  if (node.state === 'running') {
    if (node.attempts > 1) parts.push(`attempt ${node.attempts}`);
  } else if (node.durationMs !== undefined && node.state !== 'skipped') {
    parts.push(formatDuration(node.durationMs));
  }
  if (node.state !== 'running' && node.attempts > 1) parts.push(plural(node.attempts, 'attempt'));
  if (node.iterations > 1) parts.push(plural(node.iterations, 'iteration'));
  return parts.join(' · ');
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

/** The log lines of one node's events, as written. */
function logOf(events: readonly RunEvent[], nodeId: string): string {
  return events
    .filter((e) => e.type === 'node-log' && e.nodeId === nodeId)
    .map((e) => (e.type === 'node-log' ? e.text : ''))
    .join('');
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
  const out: string[] = [];
  for (const e of events) {
    const at = e.at.slice(11, 23);
    switch (e.type) {
      case 'run-started':
        out.push(`${at} ▶ ${e.melody} (${e.file}) run ${e.runId} — ${e.trigger.kind}${e.parent ? `, sub-melody of ${e.parent.runId}/${e.parent.nodeId}` : ''}`);
        if (Object.keys(e.inputs).length) out.push(`${at}   inputs ${JSON.stringify(e.inputs)}`);
        break;
      case 'run-resumed':
        out.push(`${at} ↺ resumed (pid ${e.pid})`);
        break;
      case 'node-started':
        out.push(`${at} ▸ ${e.nodeId} attempt ${e.attempt}${e.iteration ? ` iteration ${e.iteration + 1}` : ''}${e.instrument ? ` · ${e.instrument}` : ''}`);
        break;
      case 'node-log':
        for (const line of e.text.replace(/\n$/, '').split('\n')) out.push(`${at}   │ ${e.nodeId}${e.stream === 'stderr' ? ' (stderr)' : ''}: ${line}`);
        break;
      case 'node-retried':
        out.push(`${at} ↻ ${e.nodeId} attempt ${e.attempt} failed, retrying in ${formatDuration(e.delayMs)}: ${e.error}`);
        break;
      case 'node-fallback':
        out.push(`${at} ⇢ ${e.nodeId}: ${e.from} failed (${e.error}); trying ${e.to}`);
        break;
      case 'approval-requested':
        out.push(`${at} ? ${e.nodeId} asks for approval: ${e.message}`);
        break;
      case 'node-finished':
        out.push(`${at} ■ ${e.nodeId} ${e.status} in ${formatDuration(e.durationMs)}${e.error ? `: ${e.error}` : e.reason ? ` (${e.reason})` : ''}`);
        break;
      case 'run-finished':
        out.push(`${at} ■ run ${e.status} in ${formatDuration(e.durationMs)}${e.error && e.status === 'failure' ? `: ${e.error}` : ''}`);
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
  }
  return `${out.join('\n')}\n`;
}
