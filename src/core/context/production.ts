/**
 * `production.md` (DESIGN.md §1): what "done" means for a workspace, in `## ` sections —
 * Checklist, Quality metrics, Constraints, Feature flags, Deliverables, Conductor notes.
 * People write it, so the parser is forgiving: headings are matched loosely, items may be
 * list items or paragraphs, HTML comments (the template's hints) are not content. The
 * Conductor checks outputs against it; context packing puts its constraints in MUST READ.
 */

/** One checklist item, `- [ ] text` or `- [x] text`. */
export interface ChecklistItem {
  readonly text: string;
  readonly done: boolean;
}

/** `- name: on — what it gates`. */
export interface FeatureFlag {
  readonly name: string;
  readonly on: boolean;
  readonly gates?: string;
}

/** What `production.md` says. Every list is empty when its section is missing. */
export interface ProductionGoals {
  readonly checklist: readonly ChecklistItem[];
  readonly qualityMetrics: readonly string[];
  readonly constraints: readonly string[];
  readonly featureFlags: readonly FeatureFlag[];
  readonly deliverables: readonly string[];
  readonly conductorNotes: readonly string[];
  /**
   * The command that runs the tests, when the file names one: a `Test command: \`npm test\``
   * line anywhere, the first code in a "Tests" section, or code in a checklist item about tests.
   */
  readonly testCommand?: string;
  /** Items of any other `## ` section, by its heading as written. */
  readonly other: Readonly<Record<string, readonly string[]>>;
}

type Known = 'checklist' | 'qualityMetrics' | 'constraints' | 'featureFlags' | 'deliverables' | 'conductorNotes' | 'tests';

/** Headings as people write them, lower-cased with anything but letters removed. */
const HEADINGS: Readonly<Record<string, Known>> = {
  checklist: 'checklist',
  definitionofdone: 'checklist',
  qualitymetrics: 'qualityMetrics',
  metrics: 'qualityMetrics',
  quality: 'qualityMetrics',
  constraints: 'constraints',
  rules: 'constraints',
  featureflags: 'featureFlags',
  flags: 'featureFlags',
  deliverables: 'deliverables',
  conductornotes: 'conductorNotes',
  notes: 'conductorNotes',
  tests: 'tests',
  testing: 'tests',
  testcommand: 'tests',
};

const LIST_ITEM = /^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$/;
const CHECKBOX = /^\[([ xX])\]\s*(.*)$/;
/** `name: on — note`; the em and en dash escaped, so the CLI's bundle stays ASCII (scripts/cliBundle.mjs). */
const FLAG = /^`?([^:`]+?)`?\s*:\s*(on|off|true|false|enabled|disabled|yes|no)\b\s*(?:[\u2014\u2013-]+\s*(.*))?$/i;
const TEST_COMMAND_LINE = /\btest command\s*[:=]\s*(?:`([^`]+)`|(\S.*?))\s*$/im;
const ON = new Set(['on', 'true', 'enabled', 'yes']);

/** Parses `production.md`. Never fails: what it cannot read is left out. */
export function parseProduction(text: string): ProductionGoals {
  const clean = text.replace(/\r\n?/g, '\n').replace(/<!--[\s\S]*?(?:-->|$)/g, '');
  const sections = new Map<string, { heading: string; lines: string[] }>();
  let current: { heading: string; lines: string[] } | undefined;
  let inFence: string | undefined;
  for (const line of clean.split('\n')) {
    const fence = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence && (inFence === undefined || fence.startsWith(inFence))) inFence = inFence === undefined ? fence : undefined;
    const heading = fence || inFence !== undefined ? null : /^##\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      const key = heading[1]!.toLowerCase().replace(/[^a-z]/g, '');
      current = sections.get(key) ?? { heading: heading[1]!, lines: [] };
      sections.set(key, current);
    } else if (current && (fence || inFence !== undefined || !/^#/.test(line))) {
      current.lines.push(line);
    }
  }

  const known = new Map<Known, string[]>();
  const other: Record<string, readonly string[]> = {};
  const codeOf = new Map<Known, string>();
  for (const [key, { heading, lines }] of sections) {
    const kind = HEADINGS[key];
    const { items, firstCode } = itemsOf(lines);
    if (!kind) other[heading] = items;
    else {
      known.set(kind, [...(known.get(kind) ?? []), ...items]);
      if (firstCode && !codeOf.has(kind)) codeOf.set(kind, firstCode);
    }
  }
  const list = (k: Known) => known.get(k) ?? [];

  const checklist = list('checklist').map((item) => {
    const box = CHECKBOX.exec(item);
    return box ? { text: box[2]!, done: box[1] !== ' ' } : { text: item, done: false };
  });
  const featureFlags = list('featureFlags').flatMap((item) => {
    const m = FLAG.exec(item);
    return m ? [{ name: m[1]!.trim(), on: ON.has(m[2]!.toLowerCase()), ...(m[3]?.trim() ? { gates: m[3].trim() } : {}) }] : [];
  });
  const named = TEST_COMMAND_LINE.exec(clean);
  const fromChecklist = checklist.map((c) => (/\btests?\b/i.test(c.text) ? /`([^`]+)`/.exec(c.text)?.[1] : undefined)).find(Boolean);
  const testCommand = (named?.[1] ?? named?.[2])?.trim() || codeOf.get('tests') || fromChecklist;

  return {
    checklist,
    qualityMetrics: list('qualityMetrics'),
    constraints: list('constraints'),
    featureFlags,
    deliverables: list('deliverables'),
    conductorNotes: list('conductorNotes'),
    ...(testCommand ? { testCommand } : {}),
    other,
  };
}

/**
 * The items of a section: each list item (with its wrapped lines), each paragraph, and each
 * code block's text; also the first code found (an inline span or a block's first line).
 */
function itemsOf(lines: readonly string[]): { items: string[]; firstCode?: string } {
  const items: string[] = [];
  let firstCode: string | undefined;
  let current: string[] | undefined;
  let fence: string | undefined;
  let code: string[] = [];
  const flush = () => {
    const item = current?.join(' ').replace(/\s+/g, ' ').trim();
    // "Test command: `npm test`" names the command; it is not an item of the section.
    if (item && !/^test command\s*[:=]/i.test(item)) {
      items.push(item);
      firstCode ??= /`([^`]+)`/.exec(item)?.[1]?.trim();
    }
    current = undefined;
  };
  for (const line of lines) {
    if (fence !== undefined) {
      if (line.trim().startsWith(fence)) {
        const body = code.join('\n').trim();
        if (body) {
          items.push(body);
          // The first line that is a command, not a comment.
          firstCode ??= body.split('\n').map((l) => l.trim()).find((l) => l && !/^(?:#|\/\/|rem\b)/i.test(l));
        }
        fence = undefined;
      } else code.push(line);
      continue;
    }
    const opening = /^\s*(`{3,}|~{3,})/.exec(line);
    if (opening) {
      flush();
      fence = opening[1]!;
      code = [];
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      current = [item[1]!];
    } else if (line.trim() === '') {
      flush();
    } else {
      (current ??= []).push(line.trim());
    }
  }
  flush();
  return { items, ...(firstCode ? { firstCode } : {}) };
}

/** Constraints as a Markdown list, the way MUST READ shows them. */
export function constraintsText(goals: ProductionGoals): string {
  return goals.constraints.map((c) => `- ${c}`).join('\n');
}

/**
 * The rest of the goals an instrument should know — open checklist items, quality metrics,
 * deliverables — as Markdown; empty when the file has none.
 */
export function goalsText(goals: ProductionGoals): string {
  const parts: string[] = [];
  const open = goals.checklist.filter((c) => !c.done);
  if (open.length) parts.push(['Checklist (open items):', ...open.map((c) => `- [ ] ${c.text}`)].join('\n'));
  if (goals.qualityMetrics.length) parts.push(['Quality metrics:', ...goals.qualityMetrics.map((m) => `- ${m}`)].join('\n'));
  if (goals.deliverables.length) parts.push(['Deliverables:', ...goals.deliverables.map((d) => `- ${d}`)].join('\n'));
  if (goals.testCommand) parts.push(`Tests run with: \`${goals.testCommand}\``);
  return parts.join('\n\n');
}
