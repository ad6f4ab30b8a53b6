import type { RunEvent, RunRecord } from '../core/model/run';
import type { CliEnvironment } from './options';
import { paint } from './print';
import { toolArgsText } from '../protocol/runText';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`);

/**
 * Prints a run's events as they happen: one line per node start, retry, fallback and end,
 * indented for sub-melodies. On a terminal, a status line at the bottom shows the nodes
 * running now, redrawn in place; elsewhere (CI logs, pipes) output is plain lines.
 */
export class RunPrinter {
  private readonly depth = new Map<string, number>();
  private readonly running = new Map<string, Set<string>>();
  private readonly names = new Map<string, string>();
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private statusShown = false;

  constructor(
    private readonly env: CliEnvironment,
    private readonly options: { readonly verbose?: boolean } = {},
  ) {
    if (env.interactive) this.timer = setInterval(() => this.drawStatus(), 100);
  }

  private write(line: string): void {
    this.clearStatus();
    this.env.stdout(line + '\n');
    this.drawStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) this.env.stdout('\r\x1b[2K');
    this.statusShown = false;
  }

  private drawStatus(): void {
    if (!this.env.interactive) return;
    const names = [...this.running.entries()].flatMap(([runId, ids]) => [...ids].map((id) => (this.depth.get(runId) ? `${this.names.get(runId)}/${id}` : id)));
    this.clearStatus();
    if (names.length === 0) return;
    this.frame = (this.frame + 1) % SPINNER.length;
    const text = `${SPINNER[this.frame]} running: ${names.join(', ')}`;
    this.env.stdout(paint(this.env.color, 'cyan', text.length > 120 ? `${text.slice(0, 117)}...` : text));
    this.statusShown = true;
  }

  private c(style: Parameters<typeof paint>[1], text: string): string {
    return paint(this.env.color, style, text);
  }

  onEvent(e: RunEvent): void {
    const indent = '  '.repeat(this.depth.get(e.runId) ?? 0);
    const live = (id: string, on: boolean) => {
      const set = this.running.get(e.runId) ?? new Set<string>();
      if (on) set.add(id);
      else set.delete(id);
      this.running.set(e.runId, set);
    };
    switch (e.type) {
      case 'run-started': {
        const d = e.parent ? (this.depth.get(e.parent.runId) ?? 0) + 1 : 0;
        this.depth.set(e.runId, d);
        this.names.set(e.runId, e.melody);
        const what = e.parent ? `sub-melody ${e.melody}` : e.replayOf ? `${e.melody} (replay of ${e.replayOf.runId} from ${e.replayOf.from})` : e.melody;
        this.write(`${'  '.repeat(d)}${this.c('bold', `▶ ${what}`)} ${this.c('dim', `run ${e.runId}`)}`);
        return;
      }
      case 'run-resumed':
        this.write(`${indent}${this.c('bold', `↺ resumed run ${e.runId}`)} ${this.c('dim', `(pid ${e.pid})`)}`);
        for (const s of e.stopped ?? []) this.write(`${indent}  ${this.c('yellow', `⊘ stopped the programs left running by ${s.nodeId} (attempt ${s.attempt}): ${s.command}, process group ${s.pgid}`)}`);
        return;
      case 'node-process':
        return;
      case 'node-started':
        live(e.nodeId, true);
        this.write(`${indent}  ${this.c('cyan', '▸')} ${e.nodeId}${e.attempt > 1 ? this.c('dim', ` attempt ${e.attempt}`) : ''}${e.iteration > 0 ? this.c('dim', ` iteration ${e.iteration + 1}`) : ''}${e.instrument ? this.c('dim', ` · ${e.instrument}`) : ''}`);
        return;
      case 'node-log':
        if (this.options.verbose) {
          for (const line of e.text.replace(/\n$/, '').split('\n')) this.write(`${indent}    ${this.c('dim', `│ ${line}`)}`);
        }
        return;
      case 'node-retried':
        this.write(`${indent}  ${this.c('yellow', '↻')} ${e.nodeId} attempt ${e.attempt} failed: ${e.error} — retrying in ${seconds(e.delayMs)}`);
        return;
      case 'node-fallback':
        this.write(`${indent}  ${this.c('yellow', '⇢')} ${e.nodeId}: ${e.from} failed (${e.error}); trying ${e.to}`);
        return;
      case 'approval-requested':
        this.write(`${indent}  ${this.c('yellow', '?')} ${e.nodeId} waits for approval: ${e.message}`);
        return;
      case 'node-usage':
        return;
      case 'node-tool':
        this.write(`${indent}    ${this.c(e.ok ? 'dim' : 'yellow', `⚒ ${e.nodeId}: ${e.tool}(${toolArgsText(e.args)})${e.ok ? '' : ` refused: ${e.error ?? ''}`}`)}`);
        return;
      case 'node-finished': {
        live(e.nodeId, false);
        const time = this.c('dim', seconds(e.durationMs));
        if (e.status === 'success' && e.cached) this.write(`${indent}  ${this.c('green', '✓')} ${e.nodeId} ${this.c('dim', 'cached')}`);
        else if (e.status === 'success') this.write(`${indent}  ${this.c('green', '✓')} ${e.nodeId} ${time}`);
        else if (e.status === 'failure') this.write(`${indent}  ${this.c('red', '✗')} ${e.nodeId} ${time} ${this.c('red', e.error ?? 'failed')}`);
        else if (e.status === 'skipped') this.write(`${indent}  ${this.c('dim', `○ ${e.nodeId} skipped: ${e.reason ?? ''}`)}`);
        else this.write(`${indent}  ${this.c('yellow', `⊘ ${e.nodeId} cancelled`)}`);
        return;
      }
      case 'run-finished': {
        this.running.delete(e.runId);
        const mark = e.status === 'success' ? this.c('green', '✓') : e.status === 'failure' ? this.c('red', '✗') : this.c('yellow', '⊘');
        const usage = e.tokens.input || e.tokens.output || e.costUsd ? ` · tokens ${e.tokens.input} in / ${e.tokens.output} out · $${e.costUsd.toFixed(4)}` : '';
        const name = this.depth.get(e.runId) ? `sub-melody ${this.names.get(e.runId)} ` : '';
        this.write(`${indent}${mark} ${name}${this.c('bold', e.status)} in ${seconds(e.durationMs)}${usage}${e.error && e.status !== 'cancelled' ? this.c('dim', ` — ${e.error}`) : ''}`);
        return;
      }
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  /** Stops the status line. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clearStatus();
  }
}

/** The `run --json` shape of DESIGN.md §6. */
export function runJson(record: RunRecord): Record<string, unknown> {
  // fromEntries: a node named `__proto__` is printed like any other.
  const nodes = Object.fromEntries(
    Object.entries(record.nodes).map(([id, n]) => [
      id,
      {
        status: n.state,
        attempts: n.attempts,
        output: n.output ?? null,
        ...(n.error !== undefined ? { error: n.error } : {}),
        ...(n.reason !== undefined ? { reason: n.reason } : {}),
        ...(n.cached ? { cached: true } : {}),
        startedAt: n.startedAt ?? null,
        endedAt: n.endedAt ?? null,
      },
    ]),
  );
  return { runId: record.runId, melody: record.melody, status: record.state, nodes, tokens: record.tokens, costUsd: record.costUsd, ...(record.auditError !== undefined ? { auditError: record.auditError } : {}) };
}
