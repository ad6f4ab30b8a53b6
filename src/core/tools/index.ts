import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { PermissionError } from '../engine/permissions';
import { TOOL_NAMES } from '../model/nodeKinds';
import { matchingFiles } from '../context/files';
import { programFailure, runNodeProgram } from '../nodes/shell';
import { errorMessage, readWorkspaceFile, workspacePath } from '../nodes/support';
import { NodeError, type NodeContext } from '../nodes/types';
import type { ToolCall, ToolDefinition, ToolResult } from '../providers/types';
import { ToolRefusal } from './refusal';
import { searchWorkspace } from './search';

/**
 * The tools an instrument may use to work in the workspace (`with.tools`). Their names and
 * inputs are fixed, so any model and any test can rely on them. Every call goes through
 * the melody's PermissionGuard — file scopes for reads and writes, the command allowlist
 * for `run` — and a refused or failed call goes back to the model as a tool error (it may
 * try something else); it never fails the node by itself.
 */

/** How a melody names a tool in `with.tools`. */
export type ToolName = (typeof TOOL_NAMES)[number];

/** Characters of a file `read_file` returns; the rest is cut with a note (models read less than files hold). */
export const READ_LIMIT = 100_000;
/** Paths `list_files` returns at most. */
export const LIST_LIMIT = 500;
/** Characters of stdout and of stderr the `run` tool returns (their ends: that is where errors are). */
export const RUN_OUTPUT_LIMIT = 16_000;

/** What a tool did: the text the model reads, and files it wrote. */
interface ToolOutcome {
  readonly output: string;
  /** Workspace path → the content written. */
  readonly wrote?: Readonly<Record<string, string>>;
}

interface Tool<S extends z.ZodType> {
  readonly definition: ToolDefinition & { readonly inputSchema: S };
  execute(ctx: ToolContext, input: z.output<S>): Promise<ToolOutcome>;
}

/** What tools may use: a node's context. */
export type ToolContext = Pick<NodeContext, 'workspaceRoot' | 'permissions' | 'signal' | 'env' | 'programs' | 'log' | 'programStarted'>;

const path = z.string().min(1).describe('A workspace-relative path, e.g. "src/app.ts".');

const tool = <S extends z.ZodType>(name: string, description: string, inputSchema: S, execute: Tool<S>['execute']): Tool<S> => ({
  definition: { name, description, inputSchema },
  execute,
});

const TOOLS = {
  read: tool('read_file', 'Read a text file of the workspace.', z.object({ path }), async (ctx, { path }) => {
    const { text } = await readWorkspaceFile(ctx, path);
    if (text.includes('\u0000')) throw new ToolRefusal(`${path} is a binary file`);
    return { output: text.length > READ_LIMIT ? `${text.slice(0, READ_LIMIT)}\n[cut: the file has ${text.length} characters; only the first ${READ_LIMIT} are shown]` : text };
  }),
  list: tool(
    'list_files',
    'List workspace files matching a glob, e.g. "src/**/*.ts" (node_modules, .git and .symphony are never listed).',
    z.object({ glob: z.string().min(1).describe('A glob relative to the workspace root.') }),
    async (ctx, { glob }) => {
      const found = await matchingFiles(ctx, [glob], 'glob');
      const readable: string[] = [];
      for (const p of found) {
        if (readable.length >= LIST_LIMIT) break;
        if (await ctx.permissions.resolveRead(p).then(() => true, () => false)) readable.push(p);
      }
      if (!readable.length) return { output: `(no file matches ${glob})` };
      const more = found.length > readable.length && readable.length >= LIST_LIMIT ? `\n[${found.length - readable.length} more not listed]` : '';
      return { output: readable.join('\n') + more };
    },
  ),
  search: tool(
    'search',
    'Search workspace files for a regular expression; answers `file:line: text` for each match.',
    z.object({
      pattern: z.string().min(1).describe('A regular expression (ripgrep syntax).'),
      glob: z.string().min(1).optional().describe('Only files matching this glob, e.g. "src/**/*.ts".'),
    }),
    async (ctx, { pattern, glob }) => ({ output: await searchWorkspace(ctx, pattern, glob) }),
  ),
  write: tool('write_file', 'Create or overwrite a workspace file with the given content.', z.object({ path, content: z.string() }), async (ctx, { path, content }) => {
    const abs = await ctx.permissions.resolveWrite(path);
    await fsp.mkdir(dirname(abs), { recursive: true });
    await fsp.writeFile(abs, content, 'utf8');
    const rel = await workspacePath(ctx, abs);
    return { output: `wrote ${rel} (${Buffer.byteLength(content)} bytes)`, wrote: { [rel]: content } };
  }),
  edit: tool(
    'edit_file',
    'Replace one exact occurrence of `old` with `new` in a workspace file. Fails when `old` occurs zero times or more than once: include enough surrounding text to make it unique.',
    z.object({ path, old: z.string().min(1).describe('The exact text to replace.'), new: z.string().describe('The replacement.') }),
    async (ctx, input) => {
      const { abs, rel, text } = await readWorkspaceFile(ctx, input.path);
      await ctx.permissions.resolveWrite(input.path);
      const first = text.indexOf(input.old);
      if (first < 0) throw new ToolRefusal(`the text to replace does not occur in ${rel}`);
      if (text.indexOf(input.old, first + 1) >= 0) throw new ToolRefusal(`the text to replace occurs more than once in ${rel}; include more of the surrounding text so it is unique`);
      const updated = text.slice(0, first) + input.new + text.slice(first + input.old.length);
      await fsp.writeFile(abs, updated, 'utf8');
      const line = text.slice(0, first).split('\n').length;
      return { output: `edited ${rel} at line ${line}`, wrote: { [rel]: updated } };
    },
  ),
  run: tool(
    'run',
    'Run a program with arguments (no shell: no pipes, globbing or quoting). Only programs the melody allows may run. Answers its exit code, stdout and stderr.',
    z.object({ command: z.string().min(1).describe('The program, e.g. "npm".'), args: z.array(z.string()).default([]).describe('Its arguments, e.g. ["test"].') }),
    async (ctx, { command, args }) => {
      const result = await runNodeProgram(ctx, { command, args, onOutput: (stream, text) => ctx.log(stream, text) });
      const tail = (t: string) => (t.length > RUN_OUTPUT_LIMIT ? `[… ${t.length - RUN_OUTPUT_LIMIT} characters cut]\n${t.slice(-RUN_OUTPUT_LIMIT)}` : t);
      const head = result.exitCode === 0 ? 'exit code 0' : programFailure(command, result).split('\n')[0]!;
      return { output: `${head}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}` };
    },
  ),
} satisfies Record<ToolName, Tool<z.ZodType>>;

/** The definitions of the tools a node allows, for the model. */
export function toolDefinitions(names: readonly ToolName[]): ToolDefinition[] {
  return [...new Set(names)].map((n) => TOOLS[n].definition);
}

/** The result of one tool call, as the model gets it and as the journal records it. */
export interface ExecutedCall {
  readonly result: ToolResult;
  readonly wrote: Readonly<Record<string, string>>;
  readonly durationMs: number;
}

/**
 * Runs a tool call a model asked for, among the tools the node allows. Whatever goes wrong
 * — an unknown or disallowed tool, arguments that do not fit, a refused path or program, a
 * missing file, a program that fails to start — becomes an error result the model reads.
 * Only cancellation escapes (the node is stopping).
 */
export async function executeToolCall(ctx: ToolContext, allowed: readonly ToolName[], call: ToolCall): Promise<ExecutedCall> {
  const started = Date.now();
  const done = (output: string, isError: boolean, wrote: Readonly<Record<string, string>> = {}): ExecutedCall => ({
    result: { callId: call.id, name: call.name, output, isError },
    wrote,
    durationMs: Date.now() - started,
  });
  const entry = (Object.keys(TOOLS) as ToolName[]).find((n) => TOOLS[n].definition.name === call.name);
  const offered = allowed.map((n) => TOOLS[n].definition.name);
  if (!entry || !allowed.includes(entry)) return done(`unknown tool ${JSON.stringify(call.name)}; the tools you can call are: ${offered.join(', ')}`, true);
  const t = TOOLS[entry] as Tool<z.ZodType>;
  const input = t.definition.inputSchema.safeParse(call.input);
  if (!input.success) {
    const issues = input.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
    return done(`bad arguments for ${call.name}: ${issues}. Expected ${JSON.stringify(z.toJSONSchema(t.definition.inputSchema))}`, true);
  }
  try {
    const outcome = await t.execute(ctx, input.data);
    return done(outcome.output, false, outcome.wrote);
  } catch (e) {
    ctx.signal.throwIfAborted();
    if (e instanceof PermissionError) return done(`refused: ${e.message}`, true);
    if (e instanceof ToolRefusal || e instanceof NodeError) return done(e.message, true);
    return done(`${call.name} failed: ${errorMessage(e)}`, true);
  }
}
