/**
 * `sheetMusic.md`: the active prompt — a goal, a task list, notes. People write it in their
 * own way, so the reader is forgiving: tasks are Markdown task items (`- [ ]`, `* [x]`,
 * `1. [ ]`) anywhere in the file (outside code fences and HTML comments); a task's
 * `@ensemble/instrument` mention routes it; paths in backticks name its files.
 */

/** One task of the sheet. */
export interface SheetTask {
  /** 1-based, in the order tasks appear (done ones included), so numbers stay put as tasks are ticked. */
  readonly number: number;
  /** 1-based line of the task item. */
  readonly line: number;
  /** The task's text without its checkbox, mentions kept. */
  readonly text: string;
  /** The text without mentions: what is asked. */
  readonly objective: string;
  readonly done: boolean;
  /** `ensemble/instrument` mentions, in order. */
  readonly mentions: readonly string[];
  /** Paths named in backticks (`src/a.ts`, `docs/**`), in order. */
  readonly files: readonly string[];
  /** Indented lines under the item: more detail for the instrument. */
  readonly details: string;
}

/** A parsed sheet. */
export interface Sheet {
  /** The text of the `## Goal` section (or the first paragraph after the title), trimmed. */
  readonly goal: string;
  readonly tasks: readonly SheetTask[];
  /** The `## Notes…` section, trimmed. */
  readonly notes: string;
}

const TASK = /^(\s*)(?:[-*+]|\d+[.)])\s+\[([ xX])\]\s+(.*)$/;
const MENTION = /(?<![\w@/])@([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)/g;
/** A backticked word that looks like a path: has a slash or a file extension, no spaces. */
const FILE = /`([^`\s]+)`/g;

function isPath(s: string): boolean {
  return !/^[-@]/.test(s) && (s.includes('/') || /\.[A-Za-z0-9]{1,8}$/.test(s)) && !/^https?:/.test(s);
}

/** Lines that are not prose: inside ``` fences or <!-- --> comments. */
function proseLines(lines: readonly string[]): boolean[] {
  const prose: boolean[] = [];
  let fence = false;
  let comment = false;
  for (const line of lines) {
    const trimmed = line.trim();
    if (!comment && /^(```|~~~)/.test(trimmed)) {
      fence = !fence;
      prose.push(false);
      continue;
    }
    if (fence) {
      prose.push(false);
      continue;
    }
    const wasComment = comment;
    if (!comment && trimmed.includes('<!--')) comment = !trimmed.slice(trimmed.indexOf('<!--')).includes('-->');
    else if (comment && trimmed.includes('-->')) comment = false;
    prose.push(!wasComment && !trimmed.startsWith('<!--'));
  }
  return prose;
}

/** The body of the first `##` section whose title starts with one of `titles`. */
function section(lines: readonly string[], titles: readonly string[]): string {
  const start = lines.findIndex((l) => /^##\s/.test(l) && titles.some((t) => l.replace(/^##\s+/, '').toLowerCase().startsWith(t)));
  if (start < 0) return '';
  const end = lines.findIndex((l, i) => i > start && /^#{1,2}\s/.test(l));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
}

export function parseSheet(text: string): Sheet {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const prose = proseLines(lines);
  const tasks: SheetTask[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!prose[i]) continue;
    const m = TASK.exec(lines[i]!);
    if (!m) continue;
    const indent = m[1]!.length;
    const body = m[3]!.trim();
    const details: string[] = [];
    for (let j = i + 1; j < lines.length && prose[j]; j++) {
      const next = lines[j]!;
      if (!next.trim() || TASK.test(next) || next.search(/\S/) <= indent) break;
      details.push(next.trim());
    }
    const mentions = [...body.matchAll(MENTION)].map((x) => x[1]!);
    const files = [...new Set([...`${body}\n${details.join('\n')}`.matchAll(FILE)].map((x) => x[1]!).filter(isPath))];
    tasks.push({
      number: tasks.length + 1,
      line: i + 1,
      text: body,
      objective: body.replace(MENTION, '').replace(/\s{2,}/g, ' ').trim(),
      done: m[2] !== ' ',
      mentions,
      files,
      details: details.join('\n'),
    });
  }
  const goal = section(lines, ['goal']) || firstParagraph(lines);
  return { goal, tasks, notes: section(lines, ['notes']) };
}

/** The first paragraph after the title: the goal of a sheet that has no `## Goal`. */
function firstParagraph(lines: readonly string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    if (/^#/.test(line) || TASK.test(line)) {
      if (out.length) break;
      continue;
    }
    if (!line.trim()) {
      if (out.length) break;
      continue;
    }
    out.push(line.trim());
  }
  return out.join(' ');
}

/**
 * The sheet with task `number` ticked (`- [ ]` → `- [x]`): the text edit, as the line and
 * the column range of the space in the checkbox — applied as a WorkspaceEdit in VS Code (so
 * an open editor and undo see it) or to the file by the CLI. Undefined when the task is
 * already done or is not there (the sheet changed meanwhile).
 */
export function tickEdit(text: string, number: number): { line: number; start: number; end: number } | undefined {
  const task = parseSheet(text).tasks.find((t) => t.number === number);
  if (!task || task.done) return undefined;
  const line = text.replace(/\r\n?/g, '\n').split('\n')[task.line - 1]!;
  const at = line.indexOf('[ ]');
  return at < 0 ? undefined : { line: task.line, start: at + 1, end: at + 2 };
}

/** Applies a tick edit to a text, keeping its line endings. */
export function applyTick(text: string, edit: { line: number; start: number; end: number }): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const l = lines[edit.line - 1]!;
  lines[edit.line - 1] = `${l.slice(0, edit.start)}x${l.slice(edit.end)}`;
  return lines.join(eol);
}
