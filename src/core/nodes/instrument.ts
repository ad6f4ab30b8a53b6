import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { DEFAULT_MAX_STEPS } from '../model/nodeKinds';
import { runAgent } from '../providers/agent';
import { callModel, openModel } from '../providers/call';
import { errorMessage, permanentError, readWorkspaceFile, realWorkspaceRoot } from './support';
import { NodeError, type NodeContext, type NodeImplementation } from './types';

/** Characters of workspace files packed into one prompt: room for the answer in small context windows. */
export const FILES_LIMIT = 200 * 1024;
/** Folders never packed: dependencies, git internals, Symphony's own records. */
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.symphony']);

/**
 * Calls the model of the node's instrument. The system prompt is the instrument's role
 * plus `with.system`; the prompt is `with.prompt` plus the workspace files matching
 * `with.files`. Text streams into the node's log as it arrives. With `json: true` the
 * answer is parsed (a fenced ```json block is accepted) and an unparsable answer is
 * retryable — models often get it right on a second try. Output: the text or the JSON.
 *
 * With `with.tools` the model works as an agent (`providers/agent.ts`): it may read, list,
 * search, write and edit workspace files and run allowed programs, within the melody's
 * permissions, for up to `with.maxSteps` calls. Output: `{ text, files, artifacts, steps,
 * toolCalls }` (or the parsed JSON of its final answer with `json: true`).
 *
 * A ProviderUnavailableError passes through untouched: the engine moves on to the node's
 * `fallback:` instruments when it sees one.
 */
export const instrumentNode: NodeImplementation<'instrument'> = {
  kind: 'instrument',
  async run(input, ctx) {
    const instrument = ctx.instrument;
    if (!instrument) throw permanentError('an instrument node needs `instrument:` (ensemble/instrument)');
    const system = [instrument.role, input.system].filter((s) => s?.trim()).join('\n\n') || undefined;
    const prompt = input.files?.length ? `${input.prompt}\n\n${await packFiles(ctx, input.files)}` : input.prompt;
    const model = await openModel(ctx, instrument);
    const settings = {
      maxTokens: input.maxTokens ?? instrument.model?.maxTokens,
      temperature: input.temperature ?? instrument.model?.temperature,
      json: input.json ? {} : undefined,
    };
    if (input.tools?.length) {
      const agent = await runAgent(ctx, instrument, model, { system, prompt, tools: input.tools, maxSteps: input.maxSteps ?? DEFAULT_MAX_STEPS, ...settings });
      if (input.json) return { output: parseModelJson(agent.text) };
      return { output: { text: agent.text, files: agent.files, artifacts: agent.artifacts, steps: agent.steps, toolCalls: agent.toolCalls } };
    }
    const answer = await callModel(ctx, instrument, model, { system, messages: [{ role: 'user', text: prompt }], ...settings });
    return { output: input.json ? parseModelJson(answer.text) : answer.text };
  },
};

/**
 * The JSON in a model's answer: the first fenced code block if there is one (models like
 * to wrap JSON in ```json fences, sometimes with a sentence around them), else the whole
 * text. Throws a retryable NodeError when it does not parse.
 */
export function parseModelJson(text: string): unknown {
  const fenced = /```[ \t]*(?:json|JSON)?[ \t]*\r?\n([\s\S]*?)```/.exec(text);
  const body = (fenced ? fenced[1]! : text).trim();
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    const start = body.length > 200 ? `${body.slice(0, 200)}…` : body;
    throw new NodeError(`the model did not return valid JSON: ${errorMessage(e)}; it answered: ${JSON.stringify(start)}`, { retryable: true, cause: e });
  }
}

/**
 * The workspace files matching `globs`, each under a `--- path ---` header, in path order,
 * up to FILES_LIMIT characters. Every file is read through the permission guard; what is
 * left out (over the limit, binary, not readable) is said at the end, so the model knows
 * it did not see everything.
 */
export async function packFiles(ctx: NodeContext, globs: readonly string[]): Promise<string> {
  const paths = await matchingFiles(ctx, globs);
  const sections: string[] = [];
  const leftOut: string[] = [];
  let used = 0;
  for (const path of paths) {
    ctx.signal.throwIfAborted();
    let text: string;
    try {
      ({ text } = await readWorkspaceFile(ctx, path));
    } catch (e) {
      leftOut.push(errorMessage(e)); // the guard's and the reader's messages name the file
      continue;
    }
    if (text.includes('\u0000')) {
      leftOut.push(`${path} (binary)`);
      continue;
    }
    const section = `--- ${path} ---\n${text}${text.endsWith('\n') ? '' : '\n'}`;
    if (used + section.length > FILES_LIMIT) {
      leftOut.push(`${path} (over the ${Math.round(FILES_LIMIT / 1024)} KB limit for files)`);
      continue;
    }
    sections.push(section);
    used += section.length;
  }
  if (paths.length === 0) sections.push(`(no workspace file matches ${globs.join(', ')})`);
  if (leftOut.length) {
    const note = `Files left out: ${leftOut.join('; ')}`;
    ctx.log('info', `${note}\n`);
    sections.push(`--- left out ---\n${note}\n`);
  }
  return sections.join('\n');
}

/**
 * Workspace-relative paths of the files matching `globs`, sorted. Only the folders the
 * globs can reach are walked (`src/**` walks `src`), and a glob that reaches outside the
 * workspace is refused rather than walked. A glob naming a folder means everything in it.
 */
export async function matchingFiles(ctx: Pick<NodeContext, 'workspaceRoot' | 'signal'>, globs: readonly string[]): Promise<string[]> {
  const root = await realWorkspaceRoot(ctx.workspaceRoot);
  const patterns: string[] = [];
  const bases = new Set<string>();
  for (const glob of globs) {
    const { base, isGlob } = picomatch.scan(glob);
    const rel = relative(root, resolve(root, base));
    if (isAbsolute(glob) || rel.startsWith('..') || isAbsolute(rel)) {
      throw permanentError(`files: ${glob} reaches outside the workspace; globs are relative to the workspace root`);
    }
    const isFolder = !isGlob && (await fsp.stat(join(root, base)).then((s) => s.isDirectory(), () => false));
    patterns.push(isFolder ? `${glob.replace(/\/+$/, '')}/**` : glob);
    bases.add(rel.split('\\').join('/'));
  }
  const matches = picomatch(patterns);
  const found = new Set<string>();
  for (const base of bases) {
    for await (const path of walk(root, base, ctx.signal)) if (matches(path)) found.add(path);
  }
  return [...found].sort();
}

/** Files under `rel` (a file or a folder), workspace-relative; skipped folders and folder links are not entered. */
async function* walk(root: string, rel: string, signal: AbortSignal): AsyncGenerator<string> {
  signal.throwIfAborted();
  const abs = join(root, rel);
  const entries = await fsp.readdir(abs, { withFileTypes: true }).catch(() => undefined);
  if (!entries) {
    // Not a folder: the base of a glob may be the one file it names.
    if (rel && (await fsp.lstat(abs).then((s) => !s.isDirectory(), () => false))) yield rel;
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIPPED_FOLDERS.has(entry.name)) yield* walk(root, path, signal);
    } else if (entry.isFile()) {
      yield path;
    } else if (entry.isSymbolicLink() && (await fsp.stat(join(abs, entry.name)).then((s) => s.isFile(), () => false))) {
      // A link to a file is offered; the guard then refuses it if it leads outside.
      yield path;
    }
  }
}
