import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { parseProduction, type ProductionGoals } from '../context/production';
import { decodeText, TextEncodingError } from '../load/fs';
import { loadYamlWith } from '../load/yamlData';
import { conductorConfigSchema, type ConductorConfig } from '../model/conductor';
import { START_OF_FILE, type Diagnostic, type DiagnosticCode, type Position } from '../model/diagnostic';
import { parseSheet, type Sheet } from './sheet';

/**
 * What the Conductor reads before it plans — sheetMusic.md, production.md and
 * .symphony/conductor.yaml — and what is wrong with them, at `file:line:col`. People write
 * these files by hand, so the readers are forgiving; what they would silently drop (tasks
 * or constraints hidden by a comment or a fence that never closes, a file that is not
 * UTF-8) is an error that stops the Conductor before it changes anything, and what only
 * weakens the run (an empty production.md) is a warning.
 */

export const SHEET_FILE = 'sheetMusic.md';
export const PRODUCTION_FILE = 'production.md';
export const CONDUCTOR_FILE = '.symphony/conductor.yaml';

/** Everything planning reads, and what was wrong with it. */
export interface ConductInputs {
  readonly sheet: Sheet;
  readonly production: ProductionGoals;
  readonly config: ConductorConfig;
  /** Errors: the Conductor does not plan (a broken conductor.yaml, no tasks, a hidden part of a file). */
  readonly problems: readonly Diagnostic[];
  /** Said, and the Conductor goes on (an empty production.md, an item that only looks like a task). */
  readonly warnings: readonly Diagnostic[];
}

const at = (file: string, position: Position, severity: Diagnostic['severity'], code: DiagnosticCode, message: string): Diagnostic => ({
  file,
  range: { start: position, end: position },
  severity,
  code,
  message,
});

/** A file's text; undefined when there is none; a diagnostic when it cannot be read as UTF-8 text. */
async function readText(root: string, file: string): Promise<{ text?: string; problem?: Diagnostic }> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(join(root, file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: at(file, START_OF_FILE.start, 'error', 'io', `cannot read ${file}: ${(e as Error).message}`) };
  }
  try {
    return { text: decodeText(bytes) };
  } catch (e) {
    if (e instanceof TextEncodingError) return { problem: at(file, e.position, 'error', 'encoding', `${file} ${e.message.replace(/^the file /, '')}`) };
    throw e;
  }
}

/** Reads sheetMusic.md, production.md and .symphony/conductor.yaml; what cannot be used is a diagnostic, never a crash. */
export async function readConductInputs(root: string): Promise<ConductInputs> {
  const problems: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const sort = (ds: readonly Diagnostic[]) => {
    for (const d of ds) (d.severity === 'error' ? problems : warnings).push(d);
  };

  const sheetFile = await readText(root, SHEET_FILE);
  if (sheetFile.problem) problems.push(sheetFile.problem);
  else if (sheetFile.text === undefined) problems.push(at(SHEET_FILE, START_OF_FILE.start, 'error', 'io', `there is no ${SHEET_FILE}: write the tasks there as "- [ ] …" items (symphony init creates one)`));
  else sort(checkSheet(sheetFile.text));
  const sheet = parseSheet(sheetFile.text ?? '');

  const productionFile = await readText(root, PRODUCTION_FILE);
  if (productionFile.problem) problems.push(productionFile.problem);
  else if (productionFile.text !== undefined) sort(checkProduction(productionFile.text));
  const production = parseProduction(productionFile.problem ? '' : (productionFile.text ?? ''));

  let config: ConductorConfig = {};
  const configFile = await readText(root, CONDUCTOR_FILE);
  if (configFile.problem) problems.push(configFile.problem);
  else if (configFile.text !== undefined) {
    const loaded = loadYamlWith(conductorConfigSchema, configFile.text, CONDUCTOR_FILE, 'the Conductor settings: planner, reviewer, testCommand, commit, tools, maxSteps, budget');
    if (loaded.ok) {
      config = loaded.value.value;
      sort(loaded.value.warnings);
    } else sort(loaded.error);
  }
  return { sheet, production, config, problems, warnings };
}

/** The test command: conductor.yaml's, else production.md's (split on spaces; no shell). */
export function testCommandOf(inputs: Pick<ConductInputs, 'config' | 'production'>): string[] | undefined {
  return inputs.config.testCommand ?? inputs.production.testCommand?.trim().split(/\s+/).filter(Boolean);
}

/** A `<!--` comment or a ``` / ~~~ fence that is opened and never closed. */
interface Unclosed {
  readonly what: 'comment' | 'fence';
  readonly position: Position;
  /** The opener as written. */
  readonly opener: string;
  /** Lines after the opener that are not blank: what the reader does not see. */
  readonly hiddenLines: number;
}

/**
 * The first comment or code fence that runs to the end of the text. Both Markdown readers
 * treat what follows such an opener as not prose — so tasks, checklist items and
 * constraints written after it would be dropped without a word.
 */
export function findUnclosed(text: string): Unclosed | undefined {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let open: { what: 'comment' | 'fence'; position: Position; opener: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (open?.what === 'fence') {
      if (line.trim().startsWith(open.opener)) open = undefined;
      continue;
    }
    let from = 0;
    if (open?.what === 'comment') {
      const close = line.indexOf('-->');
      if (close < 0) continue;
      open = undefined;
      from = close + 3;
    }
    const fence = /^(\s*)(`{3,}|~{3,})/.exec(line);
    if (from === 0 && fence) {
      open = { what: 'fence', position: { line: i + 1, column: fence[1]!.length + 1 }, opener: fence[2]!, line: i };
      continue;
    }
    // Comments open and close within a line any number of times; one may stay open.
    for (;;) {
      const start = line.indexOf('<!--', from);
      if (start < 0) break;
      const end = line.indexOf('-->', start + 4);
      if (end < 0) {
        open = { what: 'comment', position: { line: i + 1, column: start + 1 }, opener: '<!--', line: i };
        break;
      }
      from = end + 3;
    }
  }
  if (!open) return undefined;
  const hiddenLines = lines.slice(open.line + 1).filter((l) => l.trim()).length;
  return { what: open.what, position: open.position, opener: open.opener, hiddenLines };
}

function unclosedProblem(file: string, found: Unclosed, hides: string): Diagnostic {
  const name = found.what === 'comment' ? 'this HTML comment' : `this code fence (${found.opener})`;
  const close = found.what === 'comment' ? '-->' : found.opener;
  return at(file, found.position, 'error', 'markdown', `${name} is never closed, so the ${found.hiddenLines} line${found.hiddenLines === 1 ? '' : 's'} after it would be ignored — ${hides}; close it with ${close}`);
}

/** A list item whose checkbox is not one the sheet reads: `- []`, `- [o]`, `- [  ]`, `-[ ]` (not a link, `- [a](…)`). */
const NEAR_TASK = /^(\s*)(?:[-*+]|\d+[.)])(?:\s*\[(?:\s{2,}|[^\]xX ]?)\]|\[[ xX]\])(?![(\[:])\s*\S/;

/** What is wrong with sheetMusic.md: empty, no tasks, tasks hidden, items that only look like tasks. */
export function checkSheet(text: string, file = SHEET_FILE): Diagnostic[] {
  const example = '"- [ ] Fix the greeting in `src/greet.js` @core/coder"';
  if (!text.trim()) return [at(file, START_OF_FILE.start, 'error', 'empty', `${file} is empty: write the goal and the tasks as Markdown task items, e.g. ${example} (symphony init writes a starter sheet)`)];
  const out: Diagnostic[] = [];
  const unclosed = findUnclosed(text);
  if (unclosed && unclosed.hiddenLines > 0) out.push(unclosedProblem(file, unclosed, 'tasks written there are not read'));
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const tasks = parseSheet(text).tasks;
  lines.forEach((line, i) => {
    const near = NEAR_TASK.exec(line);
    if (near && !tasks.some((t) => t.line === i + 1)) {
      out.push(at(file, { line: i + 1, column: near[1]!.length + 1 }, 'warning', 'markdown', `this looks like a task but is not one: write its checkbox as "- [ ] " (a space between the brackets) or "- [x] " when it is done`));
    }
  });
  if (!tasks.length && !out.some((d) => d.severity === 'error')) out.push(at(file, START_OF_FILE.start, 'error', 'empty', `${file} has no tasks: add them as Markdown task items, e.g. ${example}`));
  return out;
}

/** What is wrong with production.md: sections hidden by a comment or fence left open; empty, or nothing the Conductor reads. */
export function checkProduction(text: string, file = PRODUCTION_FILE): Diagnostic[] {
  const gate = 'the production gate holds only its mechanical checks (tests pass, files under scope, no new fundamental deviation)';
  if (!text.trim()) return [at(file, START_OF_FILE.start, 'warning', 'empty', `${file} is empty: ${gate}; write its ## Checklist and ## Constraints (symphony init writes a starter file)`)];
  const unclosed = findUnclosed(text);
  if (unclosed && unclosed.hiddenLines > 0) return [unclosedProblem(file, unclosed, 'its checklist and constraints there would not be checked')];
  const goals = parseProduction(text);
  const read = goals.checklist.length + goals.constraints.length + goals.qualityMetrics.length + goals.deliverables.length + goals.conductorNotes.length + goals.featureFlags.length;
  if (read === 0 && goals.testCommand === undefined) {
    return [at(file, START_OF_FILE.start, 'warning', 'schema', `${file} has no section the Conductor reads (## Checklist, ## Constraints, ## Quality metrics, ## Deliverables, ## Tests, or a "Test command:" line): ${gate}`)];
  }
  return [];
}
