import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import picomatch from 'picomatch';
import { simpleGit, type SimpleGit } from 'simple-git';
import { z } from 'zod';
import { chamberPath } from '../chambers/registry';
import { setupChambers } from '../chambers/setup';
import { buildPrompt, promptBudget } from '../context/prompt';
import { PermissionGuard } from '../engine/permissions';
import { loadEnsembleText } from '../load/ensembles';
import { verdictSchema, type Verdict } from '../model/conductor';
import { modelLabel, type Instrument } from '../model/instrument';
import { missionContextSchema } from '../model/mission';
import type { TokenUsage } from '../model/run';
import type { WithOf } from '../model/nodeKinds';
import { TOOL_NAMES } from '../model/nodeKinds';
import { scanText, SEVERITY_OF_MARKER, type Marker } from '../deviations/markers';
import { locationOf, recordDeviation } from '../deviations/records';
import { commitMessage } from '../nodes/gitCommit';
import { programFailure, runNodeProgram } from '../nodes/shell';
import { errorMessage, permanentError } from '../nodes/support';
import { NodeError, type NodeContext, type NodeResult } from '../nodes/types';
import { runAgent } from '../providers/agent';
import { BudgetRefusal, callModel, countRequestTokens, openModel } from '../providers/call';
import { toolDefinitions, type ToolName } from '../tools';
import type { ChatModel } from '../providers/types';
import { writeFileAtomic } from '../store/files';
import { withFileLock } from '../store/lock';
import { appendHandoff, parseHandoff } from './handoff';
import { extractiveSummary } from './summarize';
import { isTicked, tickTasks } from './tick';

/**
 * One assignment, as the Conductor carries it out (DESIGN.md §4): the instrument works with
 * its tools inside the assignment's scope; the tests run and a failure goes back to it once
 * with the output; the production gate (tests pass, files under scope, no new fundamental
 * deviation, and the reviewer's verdict when there is a reviewer) runs and its reasons go
 * back once; then a handoff entry, the ensemble's summary.txt, a commit of the files it
 * touched and the task ticked in sheetMusic.md. A second failure of the tests or the gate
 * ends the assignment failed: the task stays open and nothing is committed.
 */

type Input = WithOf<'assignment'>;

/** Model calls per attempt unless the plan says otherwise. */
const DEFAULT_STEPS = 12;
/** Characters of test output sent back to the instrument and kept in the report. */
const TEST_OUTPUT_TAIL = 4000;
/** Characters of a touched file's diff shown to the reviewer. */
const REVIEW_DIFF_LIMIT = 24_000;
const MISSION = '.symphony/MISSION_CONTEXT.json';

/** What the tests did. */
export interface TestsOutcome {
  readonly ran: boolean;
  readonly passed: boolean;
  readonly command?: string;
  /** The end of their output, or why they did not run. */
  readonly output: string;
}

/** The production gate's verdict, with who gave it. */
export interface GateOutcome extends Verdict {
  /** The reviewer instrument, when one judged. */
  readonly reviewer?: string;
  /** The mechanical checks, each with whether it held. */
  readonly checks: readonly { readonly check: string; readonly ok: boolean; readonly detail?: string }[];
}

/** The output of an assignment node. */
export interface AssignmentOutput {
  readonly status: 'passed' | 'failed';
  readonly task: number;
  readonly instrument: string;
  readonly nickname: string;
  readonly model: string;
  /** Files the instrument wrote, workspace-relative. */
  readonly files: readonly string[];
  readonly commit?: string;
  /** Why nothing was committed, when nothing was. */
  readonly commitNote?: string;
  readonly tests: TestsOutcome;
  readonly gate?: GateOutcome;
  /** The handoff entry's summary. */
  readonly summary: string;
  readonly reason?: string;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
  /** Requirements the instrument reported finding. */
  readonly discovered: readonly string[];
  /** Deviation records made for markers it left. */
  readonly deviations: readonly string[];
  /** When the branch moved under it: the files it left uncommitted, each with the SHA-256 of what it left (what `resume` hands to the next attempt). */
  readonly left?: Readonly<Record<string, string>>;
}

/** Commits of one repository one at a time: parallel assignments share its index. */
const commitQueues = new Map<string, Promise<unknown>>();
function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = commitQueues.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(task);
  commitQueues.set(key, next.catch(() => undefined));
  return next;
}

export async function runAssignment(input: Input, ctx: NodeContext): Promise<NodeResult> {
  const instrument = ctx.instrument;
  if (!instrument) throw permanentError('an assignment node needs `instrument:` (ensemble/instrument)');
  const root = ctx.workspaceRoot;
  const tokens = { input: 0, output: 0 };
  let costUsd = 0;
  const label = instrument.model ? modelLabel(instrument.model) : instrument.kind;

  // A task ticked meanwhile — by hand, or by an earlier run of this plan that the budget or
  // a moved branch stopped later — is not done again.
  if (await isTicked(root, input)) {
    ctx.log('info', `task ${input.task} is ticked in sheetMusic.md already: not done again\n`);
    const tests: TestsOutcome = { ran: false, passed: true, output: 'not run: the task was done already' };
    const done: AssignmentOutput = { status: 'passed', task: input.task, instrument: instrument.ref, nickname: instrument.nickname, model: label, files: [], commitNote: `already done: task ${input.task} is ticked in sheetMusic.md`, tests, summary: '', tokens, costUsd, discovered: [], deviations: [] };
    return { output: done };
  }
  // The plan belongs to the branch it was made on: nothing starts, and nothing is committed, anywhere else.
  const onBranch = input.branch === undefined ? undefined : await currentBranch(root, ctx.signal);
  if (onBranch !== undefined && onBranch !== input.branch) {
    throw permanentError(`task ${input.task} was not started: the workspace is on ${onBranch ?? 'a detached HEAD'}, and this plan was made on ${input.branch} — check out ${input.branch}, then \`symphony resume ${ctx.runId}\` does the rest`);
  }
  const budget = ctx.budgetLeft();
  if ((budget.tokens !== undefined && budget.tokens <= 0) || (budget.usd !== undefined && budget.usd <= 0)) {
    throw permanentError(`budget exceeded: nothing is left of the run's budget for task ${input.task} — raise \`budget:\` in .symphony/conductor.yaml, then \`symphony resume ${ctx.runId}\``);
  }

  // The instrument works inside the assignment's scope — the melody's permissions, narrowed —
  // in the workspace, or in its chamber (a worktree on its own branch, merged back later).
  const scope = input.scope.length ? input.scope : ['**'];
  const workRoot = input.chamber ? await ensureChamber(root, input.chamber, scope) : root;
  const melodyGuard = input.chamber ? ctx.permissions.rebase(workRoot) : ctx.permissions;
  const guard = new PermissionGuard(workRoot, { fs: { write: scope }, commands: ctx.permissions.permissions.commands, network: ctx.permissions.permissions.network }, melodyGuard);
  const work: NodeContext = {
    ...ctx,
    workspaceRoot: workRoot,
    permissions: guard,
    usage: (call) => {
      tokens.input += call.tokens.input;
      tokens.output += call.tokens.output;
      costUsd += call.costUsd;
      ctx.usage(call);
    },
  };

  const repo = await gitOf(workRoot, ctx.signal);
  const before = repo ? { branch: await branchOf(repo), dirty: await dirtyFiles(repo) } : undefined;

  const system = [instrument.role, 'You are one instrument of a Symphony ensemble, working on one task of the team’s sheet music.'].filter(Boolean).join('\n\n');
  const files = new Set<string>();
  let text = '';
  let tests: TestsOutcome = { ran: false, passed: true, output: 'not run: the work did not finish' };
  let gate: GateOutcome | undefined;
  let feedback: string | undefined;
  let failure: string | undefined;
  let testRetries = 1;
  let gateRetries = 1;
  // What an earlier run of this task left uncommitted when the branch moved under it is this
  // work, not the person's — as long as it is exactly what that run left.
  for (const [file, sha] of Object.entries(input.leftover ?? {})) {
    if (before?.dirty.has(file) && (await fileSha(join(workRoot, file))) === sha) {
      before.dirty.delete(file);
      files.add(file);
    }
  }

  try {
    const model = await openModel(work, instrument);
    for (;;) {
      const tools = input.tools ?? [...TOOL_NAMES];
      const prompt = await fitPrompt(work, instrument, model, assignmentPrompt(input, feedback), input.files?.filter((f) => !/[*?[\]{}]/.test(f)), system, tools);
      const agent = await runAgent(work, instrument, model, {
        system,
        prompt,
        tools,
        maxSteps: input.maxSteps ?? DEFAULT_STEPS,
        maxTokens: instrument.model?.maxTokens,
        temperature: instrument.model?.temperature,
      });
      for (const f of agent.files) files.add(f);
      text = agent.text;

      tests = await runTests(work, input);
      if (!tests.passed) {
        if (testRetries-- > 0) {
          ctx.log('info', `the tests failed; sending the output back to ${instrument.nickname} once\n`);
          feedback = `The tests (\`${tests.command}\`) failed after your work. Fix the cause — in the code or the tests, whichever is wrong — and make them pass. Their output:\n\n${tests.output}`;
          continue;
        }
        failure = `the tests failed twice: ${firstLine(tests.output)}`;
        break;
      }

      gate = await runGate(work, input, { files: [...files], scope, tests, text, repo });
      if (!gate.pass) {
        if (gateRetries-- > 0) {
          ctx.log('info', `the production gate did not pass; sending the reasons back to ${instrument.nickname} once\n`);
          feedback = `The production gate did not pass your work:\n${[...gate.reasons, ...gate.unmet.map((u) => `unmet: ${u}`)].map((r) => `- ${r}`).join('\n')}\nFix what it names.`;
          continue;
        }
        failure = `the production gate failed twice: ${[...gate.unmet, ...gate.reasons].join('; ') || 'no reason given'}`;
        break;
      }
      break;
    }
  } catch (e) {
    // Cancellation ends the node as cancelled; anything else — a model that cannot be
    // reached, a prompt that does not fit, an agent out of steps — ends the assignment as
    // failed, with the trail written like any other end.
    if (ctx.signal.aborted) throw e;
    failure = errorMessage(e);
    if (isBudgetRefusal(e)) {
      failure = `budget exceeded: ${failure.replace(/^budget: /, '')} — raise \`budget:\` in .symphony/conductor.yaml, then \`symphony resume ${ctx.runId}\``;
      // Refused before anything was sent or written: there is no turn to leave a trail of.
      if (!files.size && !text && tokens.input + tokens.output === 0) throw permanentError(`task ${input.task} (${input.objective}): ${failure}`);
    }
    const partial = (e as NodeError).output as { files?: readonly string[]; text?: string } | undefined;
    for (const f of partial?.files ?? []) files.add(f);
    text = partial?.text ?? text;
  }

  const touched = [...files];
  const discovered = discoveredRequirements(text);
  const summary = handoffSummary(text, failure);
  const nickname = instrument.nickname;

  // The trail: handoff entry, the ensemble's summary, the mission, deviations — passed or not.
  await appendHandoff(root, { nickname, instrument: instrument.ref, model: label, summary: ctx.redact(summary), files: touched, tokens });
  await refreshEnsembleSummary(work, instrument).catch((e: unknown) => ctx.log('info', `summary.txt not refreshed: ${errorMessage(e)}\n`));
  if (discovered.length) await addDiscoveredRequirements(root, discovered.map((d) => ctx.redact(d))).catch((e: unknown) => ctx.log('info', `${MISSION} not updated: ${errorMessage(e)}\n`));
  const deviations = await recordNewDeviations(root, workRoot, repo, touched, nickname, input.task).catch((e: unknown) => (ctx.log('info', `deviations not recorded: ${errorMessage(e)}\n`), [] as string[]));

  const output = (extra: Partial<AssignmentOutput>): AssignmentOutput => ({
    status: failure ? 'failed' : 'passed',
    task: input.task,
    instrument: instrument.ref,
    nickname,
    model: label,
    files: touched,
    tests,
    gate,
    summary,
    tokens,
    costUsd,
    discovered,
    deviations,
    ...(failure ? { reason: failure } : {}),
    ...extra,
  });
  if (failure) throw new NodeError(`task ${input.task} (${input.objective}): ${failure}`, { retryable: false, output: output({ commitNote: 'not committed: the assignment failed' }) });

  const committed = input.commit === false ? { note: 'commits are off for this assignment' } : await commitWork(work, repo, before, touched, `${input.text.replace(/\s+/g, ' ').trim()}`, summary, nickname);
  if (committed.moved) {
    // Committing on the branch the person switched to would put the work where they did not ask for it.
    const reason = `${committed.moved}: nothing was committed and the task stays open — its changes are left in the working tree (${touched.join(', ') || 'no files'}); check out ${before?.branch ?? 'the branch'} again, then \`symphony resume ${ctx.runId}\``;
    const left: Record<string, string> = {};
    for (const f of touched) {
      const sha = await fileSha(join(workRoot, f));
      if (sha) left[f] = sha;
    }
    throw new NodeError(`task ${input.task} (${input.objective}): ${reason}`, { retryable: false, output: output({ status: 'failed', reason, commitNote: `not committed: ${committed.moved}`, left }) });
  }
  // In a chamber the task is ticked when its work is merged back (the merge-chambers node).
  if (!input.chamber) for (const note of await tickTasks(root, [{ task: input.task, text: input.text }], ctx.host.editText)) ctx.log('info', `${note}\n`);
  return { output: output(committed.commit ? { commit: committed.commit } : { commitNote: committed.note }) };
}

/**
 * The packed prompt, measured with the model's own tokenizer: packing counts with a shared
 * one (exact for OpenAI models, an estimate for others), and a model that splits text much
 * finer — a small local one — would be sent more than it reads. Then the prompt is packed
 * again into a proportionally smaller budget.
 */
async function fitPrompt(ctx: NodeContext, instrument: Instrument, model: ChatModel, task: string, files: readonly string[] | undefined, system: string, tools: readonly ToolName[]): Promise<string> {
  const limit = promptBudget(instrument, instrument.model?.maxTokens).tokens;
  const definitions = toolDefinitions(tools);
  let tokens: number | undefined;
  for (let attempt = 0; ; attempt++) {
    const prompt = await buildPrompt(ctx, instrument, { prompt: task, files: files ? [...files] : undefined, context: { tiers: ['should', 'reference'], ...(tokens ? { tokens } : {}) }, maxTokens: instrument.model?.maxTokens }, system);
    // The whole first request as the model will read it: system prompt, task and the tools' descriptions.
    const real = await countRequestTokens(model, { system, messages: [{ role: 'user', text: prompt }], tools: definitions }, ctx.signal);
    if (real <= limit || attempt === 3) return prompt;
    tokens = Math.max(1, Math.floor((tokens ?? limit) * (limit / real) * 0.95));
    ctx.log('info', `the prompt is ${real} tokens for ${model.id}, more than the ${limit} it reads; packing it into ${tokens}\n`);
  }
}

/** The chamber's worktree, made (from the current commit) when it does not exist yet. */
async function ensureChamber(root: string, id: string, scope: readonly string[]): Promise<string> {
  const made = await setupChambers(root, [{ id, module: id, scope: [...scope] }]);
  if (!made.ok) throw permanentError(`chamber ${id} could not be set up: ${made.error.join('; ')}`);
  return chamberPath(root, id);
}

/** What the instrument is asked, with what went wrong last time. */
function assignmentPrompt(input: Input, feedback: string | undefined): string {
  const lines = [`Task ${input.task} of sheetMusic.md: ${input.objective}`];
  if (input.details) lines.push('', input.details);
  if (input.goal) lines.push('', `The goal of this session: ${input.goal}`);
  if (input.files?.length) lines.push('', `Files it names: ${input.files.map((f) => `\`${f}\``).join(', ')}`);
  lines.push('', `You may write files matching: ${input.scope.join(', ') || 'anything the melody allows'}. Use your tools: read and search before you change anything, keep changes small.`);
  if (input.tests) {
    lines.push(
      `Tests are part of this task: add or update tests under tests/${input.testCommand?.length ? `, which the Conductor runs with \`${input.testCommand.join(' ')}\` after you` : ''}.`,
    );
  }
  if (input.conditions?.length) lines.push('', 'Your work must meet these (production.md):', ...input.conditions.map((c) => `- ${c}`));
  lines.push(
    '',
    'When you are done, answer with a short summary of what you did and why — it goes into the team’s handoff log. If you found a requirement nobody wrote down, add a line starting with "Discovered requirement:". If the architecture does not fit what the task needs, leave a DEVIATION_MINOR:, ARCHITECTURAL_MISMATCH: or FUNDAMENTAL_BREAK: comment in the code where it does not.',
  );
  if (feedback) lines.push('', '--- Your previous attempt was not accepted ---', feedback);
  return lines.join('\n');
}

const firstLine = (s: string) => s.trim().split('\n').find((l) => l.trim()) ?? '';

/** Runs the test command, if there is one; without one, "tests pass" holds and the outcome says no tests ran. */
async function runTests(ctx: NodeContext, input: Input): Promise<TestsOutcome> {
  if (!input.tests) return { ran: false, passed: true, output: 'the task and production.md ask for no tests' };
  const [command, ...args] = input.testCommand ?? [];
  if (!command) return { ran: false, passed: true, output: 'no tests ran: no test command is set (production.md "Test command:" or testCommand in .symphony/conductor.yaml)' };
  const result = await runNodeProgram(ctx, { command, args, onOutput: (stream, text) => ctx.log(stream, text) });
  const both = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`;
  const output = both.length > TEST_OUTPUT_TAIL ? `[…]\n${both.slice(-TEST_OUTPUT_TAIL)}` : both;
  const shown = [command, ...args].join(' ');
  return result.exitCode === 0 ? { ran: true, passed: true, command: shown, output } : { ran: true, passed: false, command: shown, output: `${programFailure(shown, result)}\n${output}` };
}

/**
 * The production gate: the mechanical checks production.md implies — the tests pass, every
 * file written is in the assignment's scope, no new FUNDAMENTAL_BREAK marker — and, with a
 * reviewer, its verdict on the work against the checklist and constraints.
 */
async function runGate(
  ctx: NodeContext,
  input: Input,
  work: { files: readonly string[]; scope: readonly string[]; tests: TestsOutcome; text: string; repo: SimpleGit | undefined },
): Promise<GateOutcome> {
  const inScope = picomatch([...work.scope], { dot: true });
  const outside = work.files.filter((f) => !inScope(f));
  const fundamental = await newMarkers(ctx.workspaceRoot, work.repo, work.files, 'fundamental');
  const checks = [
    { check: 'tests pass', ok: work.tests.passed, detail: work.tests.ran ? work.tests.command : work.tests.output },
    { check: 'files under scope', ok: outside.length === 0, detail: outside.length ? `outside ${work.scope.join(', ')}: ${outside.join(', ')}` : undefined },
    { check: 'no new fundamental deviation', ok: fundamental.length === 0, detail: fundamental.length ? fundamental.map((m) => `${m.file}:${m.line}: ${m.text}`).join('; ') : undefined },
  ];
  const unmet = checks.filter((c) => !c.ok).map((c) => `${c.check}${c.detail ? ` (${c.detail})` : ''}`);
  const reviewerRef = input.reviewer;
  if (!reviewerRef) return { pass: unmet.length === 0, reasons: unmet.length ? [] : ['the mechanical checks hold (no reviewer is set in .symphony/conductor.yaml)'], unmet, checks };
  const reviewer = ctx.lookupInstrument(reviewerRef);
  if (!reviewer) return { pass: false, reasons: [`the reviewer ${reviewerRef} is not an instrument of this workspace`], unmet, checks, reviewer: reviewerRef };
  let verdict: Verdict;
  try {
    verdict = await review(ctx, reviewer, input, work);
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    verdict = { pass: false, reasons: [`the reviewer ${reviewer.ref} could not review the work: ${errorMessage(e)}`], unmet: [] };
  }
  return { pass: verdict.pass && unmet.length === 0, reasons: verdict.reasons, unmet: [...unmet, ...verdict.unmet], checks, reviewer: reviewer.ref };
}

/** Asks the reviewer for a verdict as JSON; an answer that is not one is sent back once. */
async function review(ctx: NodeContext, reviewer: Instrument, input: Input, work: { files: readonly string[]; text: string; repo: SimpleGit | undefined }): Promise<Verdict> {
  const model: ChatModel = await openModel(ctx, reviewer);
  const diff = await changesOf(ctx.workspaceRoot, work.repo, work.files);
  const prompt = [
    `Check this work on task ${input.task} of sheetMusic.md against production.md.`,
    `Task: ${input.objective}`,
    input.conditions?.length ? `Conditions (production.md's checklist and constraints):\n${input.conditions.map((c) => `- ${c}`).join('\n')}` : 'production.md sets no checklist or constraints.',
    `The instrument's summary:\n${work.text || '(none)'}`,
    `The changes:\n${diff || '(no files changed)'}`,
    'Answer with JSON only: { "pass": boolean, "reasons": [why, in sentences], "unmet": [each condition the work does not meet] }.',
  ].join('\n\n');
  const schema = z.toJSONSchema(verdictSchema) as Record<string, unknown>;
  const messages: { role: 'user' | 'assistant'; text: string }[] = [{ role: 'user', text: prompt }];
  for (let attempt = 1; ; attempt++) {
    const answer = await callModel(ctx, reviewer, model, { system: reviewer.role, messages: [...messages], json: { schema }, maxTokens: reviewer.model?.maxTokens, temperature: 0 }, { onText: () => undefined });
    const parsed = verdictSchema.safeParse(looseJson(answer.text));
    if (parsed.success) return parsed.data;
    if (attempt === 2) return { pass: false, reasons: [`the reviewer ${reviewer.ref} answered twice with something that is not a verdict`], unmet: [] };
    messages.push({ role: 'assistant', text: answer.text }, { role: 'user', text: `That is not a verdict: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`).join('; ')}. Answer with JSON only: { "pass": boolean, "reasons": [string], "unmet": [string] }.` });
  }
}

/** The JSON in a model's answer (a fenced block, or the outermost braces), or undefined. */
function looseJson(text: string): unknown {
  const fenced = /```[ \t]*(?:json)?[ \t]*\r?\n([\s\S]*?)```/i.exec(text)?.[1];
  const body = fenced ?? text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** What the files looked like at HEAD: their diff for tracked files, their content for new ones. */
async function changesOf(root: string, repo: SimpleGit | undefined, files: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const f of files) {
    const tracked = repo ? await repo.raw(['ls-files', '--error-unmatch', '--', `:(literal)${f}`]).then(() => true, () => false) : false;
    if (tracked && repo) parts.push(await repo.raw(['diff', 'HEAD', '--', `:(literal)${f}`]).catch(() => ''));
    else parts.push(`--- new file ${f} ---\n${await fsp.readFile(join(root, f), 'utf8').catch(() => '(deleted)')}`);
  }
  const all = parts.join('\n');
  return all.length > REVIEW_DIFF_LIMIT ? `${all.slice(0, REVIEW_DIFF_LIMIT)}\n[… ${all.length - REVIEW_DIFF_LIMIT} more characters of changes]` : all;
}

/** Markers (of a severity, or all) in the files now that were not there at HEAD. */
async function newMarkers(root: string, repo: SimpleGit | undefined, files: readonly string[], severity?: string): Promise<(Marker & { file: string })[]> {
  const out: (Marker & { file: string })[] = [];
  for (const file of files) {
    const now = await fsp.readFile(join(root, file), 'utf8').catch(() => '');
    const then = repo ? await repo.raw(['show', `HEAD:${file}`]).catch(() => '') : '';
    const was = new Map<string, number>();
    for (const m of scanText(then)) was.set(m.text, (was.get(m.text) ?? 0) + 1);
    for (const m of scanText(now)) {
      const seen = was.get(m.text) ?? 0;
      if (seen > 0) {
        was.set(m.text, seen - 1);
        continue;
      }
      if (!severity || SEVERITY_OF_MARKER.get(m.marker) === severity) out.push({ ...m, file });
    }
  }
  return out;
}

/** Records the deviation markers the work left, so they show in the Deviations view with a record. */
async function recordNewDeviations(root: string, workRoot: string, repo: SimpleGit | undefined, files: readonly string[], nickname: string, task: number): Promise<string[]> {
  const ids: string[] = [];
  for (const m of await newMarkers(workRoot, repo, files)) {
    const severity = SEVERITY_OF_MARKER.get(m.marker);
    if (!severity) continue;
    const r = await recordDeviation(root, {
      agent: nickname,
      module: dirname(m.file) === '.' ? m.file : dirname(m.file),
      severity,
      expected: 'the architecture as documented',
      discovered: m.text,
      action: `left a ${m.marker} marker at ${m.file}:${m.line}`,
      reasoning: `found while working on task ${task} of sheetMusic.md`,
      impact: severity === 'fundamental' ? 'blocks the task until it is resolved' : severity === 'major' ? 'needs a decision in the merge plan' : 'small; worth a look',
      markers: [locationOf(m.file, m)],
    });
    if (r.ok) ids.push(r.value.id);
  }
  return ids;
}

/** Lines of the answer that report a requirement found along the way. */
export function discoveredRequirements(text: string): string[] {
  return [...text.matchAll(/^\s*[-*]?\s*Discovered requirement:\s*(.+)$/gim)].map((m) => m[1]!.trim()).filter(Boolean);
}

/** The summary of the turn for handoff.md: the answer (its leading sentences when long), and a failure's reason. */
function handoffSummary(text: string, failure: string | undefined): string {
  const answer = text.replace(/^\s*[-*]?\s*Discovered requirement:.*$/gim, '').trim();
  const short = answer.length > 800 ? extractiveSummary(answer, 5) : answer;
  return [failure ? `Not accepted: ${failure}.` : '', short || '(the instrument gave no summary)'].filter(Boolean).join('\n\n');
}

/** Adds discovered requirements to MISSION_CONTEXT.json (a file that exists and parses; others are left alone). */
async function addDiscoveredRequirements(root: string, found: readonly string[]): Promise<void> {
  const path = join(root, MISSION);
  await withFileLock(`${path}.lock`, async () => {
    const text = await fsp.readFile(path, 'utf8').catch(() => undefined);
    const current = text === undefined ? { original_request: '', current_understanding: '', discovered_requirements: [] } : missionContextSchema.parse(JSON.parse(text));
    const known = new Set(current.discovered_requirements);
    const next = { ...current, discovered_requirements: [...current.discovered_requirements, ...found.filter((f) => !known.has(f))] };
    await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`, { durable: false });
  });
}

/**
 * `ensembles/<e>/summary.txt`: what the ensemble did lately, for people and the next turn —
 * by the ensemble's `summarizer` instrument when it names one, else extractively from its
 * newest handoff entries.
 */
async function refreshEnsembleSummary(ctx: NodeContext, instrument: Instrument): Promise<void> {
  const dir = dirname(instrument.file);
  const meta = await fsp.readFile(join(dir, 'ensemble.yaml'), 'utf8').then((t) => loadEnsembleText(t, join(dir, 'ensemble.yaml')), () => undefined);
  const handoff = await fsp.readFile(join(ctx.workspaceRoot, 'handoff.md'), 'utf8').catch(() => '');
  const members = new Set((await fsp.readdir(dir)).map((f) => `${instrument.ensemble}/${f.replace(/\.ya?ml$/, '')}`));
  const entries = parseHandoff(handoff).filter((e) => e.instrument && members.has(e.instrument)).slice(-5);
  const text = entries.map((e) => `${e.nickname}: ${e.summary}`).join('\n');
  let summary = extractiveSummary(text, 6);
  const summarizerRef = meta?.ok ? meta.value.value.summarizer : undefined;
  const summarizer = summarizerRef ? ctx.lookupInstrument(summarizerRef) : undefined;
  if (summarizer && text) {
    const model = await openModel(ctx, summarizer);
    const answer = await callModel(ctx, summarizer, model, { system: 'You summarize faithfully and briefly.', messages: [{ role: 'user', text: `Summarize what this ensemble did lately, in at most 6 sentences:\n\n${text}` }] }, { onText: () => undefined });
    summary = answer.text.trim() || summary;
  }
  const rel = relative(ctx.workspaceRoot, dir).split('\\').join('/');
  await writeFileAtomic(join(dir, 'summary.txt'), `${ctx.redact(summary)}\n\n(updated ${new Date().toISOString()} by the Conductor, from the newest handoff entries of ${rel})\n`, { durable: false });
}

async function gitOf(root: string, signal: AbortSignal): Promise<SimpleGit | undefined> {
  const git = simpleGit({ baseDir: root, abort: signal });
  return (await git.checkIsRepo().catch(() => false)) ? git : undefined;
}

/** The workspace's branch: null on a detached HEAD, undefined outside a git repository. */
export async function currentBranch(root: string, signal: AbortSignal): Promise<string | null | undefined> {
  const git = await gitOf(root, signal);
  return git ? branchOf(git) : undefined;
}

/** Whether a model call was refused for the budget (also when the agent loop wrapped the refusal). */
function isBudgetRefusal(e: unknown): boolean {
  return e instanceof BudgetRefusal || (e instanceof Error && e.cause instanceof BudgetRefusal);
}

async function branchOf(git: SimpleGit): Promise<string | null> {
  return (await git.raw(['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim() || null;
}

/** The SHA-256 of a file's bytes; undefined when it is not there. */
async function fileSha(path: string): Promise<string | undefined> {
  const bytes = await fsp.readFile(path).catch(() => undefined);
  return bytes && createHash('sha256').update(bytes).digest('hex');
}

/** Files with uncommitted changes (or untracked), workspace-relative. */
async function dirtyFiles(git: SimpleGit): Promise<Set<string>> {
  const status = await git.raw(['status', '--porcelain=v1', '-z', '--untracked-files=all']).catch(() => '');
  const out = new Set<string>();
  for (const entry of status.split('\0')) if (entry.length > 3) out.add(entry.slice(3));
  return out;
}

/**
 * Commits exactly the files the work touched — never `git add -A` — as `[Nickname] task`
 * with the handoff summary as the body. Skipped, with a note, when one of those files had
 * uncommitted changes before the assignment began (they would be mixed in), when the
 * branch changed meanwhile, or without a repository.
 */
async function commitWork(
  ctx: NodeContext,
  repo: SimpleGit | undefined,
  before: { branch: string | null; dirty: Set<string> } | undefined,
  files: readonly string[],
  subject: string,
  body: string,
  nickname: string,
): Promise<{ commit?: string; note?: string; moved?: string }> {
  if (!repo || !before) return { note: 'not committed: the workspace is not a git repository' };
  const moved = (branch: string | null) => branch !== before.branch && { moved: `the branch changed from ${before.branch ?? '(detached)'} to ${branch ?? '(detached)'} while the assignment ran` };
  // With nothing to commit, the task would still be ticked — in the sheet of the branch the person moved to.
  if (!files.length) return moved(await branchOf(repo)) || { note: 'nothing to commit: no file was changed' };
  ctx.permissions.checkCommand('git');
  const mixed = files.filter((f) => before.dirty.has(f));
  if (mixed.length) return { note: `not committed: ${mixed.join(', ')} had uncommitted changes before the assignment began (commit or stash them, then commit this work by hand)` };
  return serialized(ctx.workspaceRoot, async () => {
    const branch = await branchOf(repo);
    const changed = moved(branch);
    if (changed) return changed;
    const specs = files.map((f) => `:(literal)${f}`);
    await repo.raw(['add', '--all', '--', ...specs]);
    const staged = (await repo.raw(['diff', '--cached', '--name-only', '--', ...specs])).trim();
    if (!staged) return { note: 'nothing to commit: the files are as committed' };
    await repo.raw(['commit', '-m', commitMessage(`${subject}\n\n${ctx.redact(body)}`, nickname, ctx.runId), '--', ...specs]);
    const commit = (await repo.revparse(['HEAD'])).trim();
    ctx.log('info', `committed ${commit.slice(0, 7)}: [${nickname}] ${subject}\n`);
    return { commit };
  });
}
