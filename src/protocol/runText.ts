/**
 * How runs read as text, wherever they are shown: the Runs view and its `symphony-run:`
 * documents (src/extension/runs/present.ts) and the Harmony Board's run overlay and debug
 * console (webview/). Plain functions of the engine's data — no `vscode`, no DOM — so both
 * sides say the same thing in the same words.
 */
import type { NodeRecord, RunEvent, TokenUsage } from '../core/model/run';

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

/** `1 attempt`, `3 attempts`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `1,234 tokens` (input and output together), or undefined when none were used. */
export function formatTokens(tokens: TokenUsage | undefined): string | undefined {
  const total = tokens ? tokens.input + tokens.output : 0;
  return total ? `${total.toLocaleString('en-US')} token${total === 1 ? '' : 's'}` : undefined;
}

/** `$0.0123`, or undefined for no cost: four decimals, since one model call costs cents. */
export function formatCost(usd: number | undefined): string | undefined {
  return usd ? `$${usd.toFixed(4)}` : undefined;
}

/**
 * What there is to say about a node besides its state: how long it took (or which attempt
 * it is on), its attempts and iterations when more than one, tokens and cost when it used
 * any — the Runs view's row and the board's card.
 */
export function nodeFacts(node: NodeRecord): string[] {
  const parts: string[] = [];
  if (node.state === 'running') {
    if (node.attempts > 1) parts.push(`attempt ${node.attempts}`);
  } else if (node.cached && node.state === 'success') {
    // Taken from the node cache: its duration is the look-up, not the node's work.
    parts.push('cached');
  } else if (node.durationMs !== undefined && node.state !== 'skipped') {
    parts.push(formatDuration(node.durationMs));
  }
  if (node.state !== 'running' && node.attempts > 1) parts.push(plural(node.attempts, 'attempt'));
  if (node.iterations > 1) parts.push(plural(node.iterations, 'iteration'));
  if (node.toolCalls) parts.push(plural(node.toolCalls, 'tool call'));
  parts.push(...assignmentFacts(node.output));
  for (const fact of [formatTokens(node.tokens), formatCost(node.costUsd)]) if (fact) parts.push(fact);
  return parts;
}

/** A Conductor assignment's verdict and commit, from its output: `gate ✓ · commit 1a2b3c4`. */
function assignmentFacts(output: unknown): string[] {
  if (!output || typeof output !== 'object') return [];
  const o = output as { gate?: { pass?: unknown }; commit?: unknown; commitNote?: unknown; tests?: { ran?: unknown; passed?: unknown } };
  const facts: string[] = [];
  if (o.tests && typeof o.tests === 'object' && o.tests.ran === true) facts.push(o.tests.passed ? 'tests ✓' : 'tests ✗');
  if (o.gate && typeof o.gate === 'object' && typeof o.gate.pass === 'boolean') facts.push(o.gate.pass ? 'gate ✓' : 'gate ✗');
  if (typeof o.commit === 'string') facts.push(`commit ${o.commit.slice(0, 7)}`);
  else if (typeof o.commitNote === 'string' && o.gate) facts.push('not committed');
  return facts;
}

/**
 * A tool call's arguments in one short line: `path=src/a.ts`, long values cut, so a
 * transcript shows what was touched without the file contents an agent wrote.
 */
export function toolArgsText(args: unknown): string {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return shorten(JSON.stringify(args) ?? '', 60);
  return Object.entries(args as Record<string, unknown>)
    .map(([k, v]) => `${k}=${shorten(typeof v === 'string' ? v : JSON.stringify(v) ?? '', 40)}`)
    .join(' ');
}

function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * What one event says, as the lines of a run transcript without their time: the first
 * line starts with a glyph for the kind of event; a node's log lines are indented under
 * it with a `│`.
 */
export function eventLines(e: RunEvent): string[] {
  switch (e.type) {
    case 'run-started': {
      const lines = [`▶ ${e.melody} (${e.file}) run ${e.runId} — ${e.trigger.kind}${e.parent ? `, sub-melody of ${e.parent.runId}/${e.parent.nodeId}` : ''}`];
      if (Object.keys(e.inputs).length) lines.push(`  inputs ${JSON.stringify(e.inputs)}`);
      return lines;
    }
    case 'run-resumed':
      return [`↺ resumed (pid ${e.pid})`, ...(e.stopped ?? []).map((s) => `  ⊘ stopped the programs left running by ${s.nodeId} (attempt ${s.attempt}): ${s.command}, process group ${s.pgid}`)];
    case 'node-process':
      return [`  ⚙ ${e.nodeId} attempt ${e.attempt} started ${e.command} (process group ${e.pgid})`];
    case 'node-started':
      return [`▸ ${e.nodeId} attempt ${e.attempt}${e.iteration ? ` iteration ${e.iteration + 1}` : ''}${e.instrument ? ` · ${e.instrument}` : ''}`];
    case 'node-log':
      return e.text
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => `  │ ${e.nodeId}${e.stream === 'stderr' ? ' (stderr)' : ''}: ${line}`);
    case 'node-retried':
      return [`↻ ${e.nodeId} attempt ${e.attempt} failed, retrying in ${formatDuration(e.delayMs)}: ${e.error}`];
    case 'node-fallback':
      return [`⇢ ${e.nodeId}: ${e.from} failed (${e.error}); trying ${e.to}`];
    case 'approval-requested':
      return [`? ${e.nodeId} asks for approval: ${e.message}`];
    case 'node-usage':
      return [`  ¤ ${e.nodeId}: ${formatTokens(e.tokens)}${e.costUsd ? ` · ${formatCost(e.costUsd)}` : ''}${e.model ? ` · ${e.model}` : ''}${e.childRunId ? ` (sub-melody ${e.childRunId})` : ''}`];
    case 'node-tool':
      return [`  ⚒ ${e.nodeId} step ${e.step}: ${e.tool}(${toolArgsText(e.args)}) ${e.ok ? '✓' : `✗ ${e.error ?? ''}`}`.trimEnd()];
    case 'node-finished':
      return [`■ ${e.nodeId} ${e.status} in ${formatDuration(e.durationMs)}${e.error ? `: ${e.error}` : e.reason ? ` (${e.reason})` : ''}`];
    case 'run-finished':
      return [`■ run ${e.status} in ${formatDuration(e.durationMs)}${e.error && e.status === 'failure' ? `: ${e.error}` : ''}`];
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** `14:03:05.120` of an event, in UTC as the journal keeps it. */
export function eventClock(e: RunEvent): string {
  return e.at.slice(11, 23);
}
