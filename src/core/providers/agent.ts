import type { Instrument } from '../model/instrument';
import { NodeError, type NodeContext } from '../nodes/types';
import { executeToolCall, toolDefinitions, type ToolName } from '../tools';
import { callModel } from './call';
import type { ChatMessage, ChatModel, ChatRequest } from './types';
import { setOwn } from '../model/names';

/**
 * The tool loop: a model that works in the workspace. Each step is one model call (through
 * `callModel`, so each is budget-checked before it is sent and charged when it answers);
 * the tool calls it asks for are run one after another through the melody's permissions,
 * journaled, and their results sent back in the next step — until the model answers
 * without calling a tool. The last allowed step is made without tools and with a note
 * asking for the answer, so an agent ends with what it has rather than mid-task.
 *
 * One loop serves every provider: the providers only speak their wire protocol.
 */

/** What the loop is asked to do. */
export interface AgentTask {
  readonly system?: string;
  readonly prompt: string;
  readonly tools: readonly ToolName[];
  /** Model calls at most (≥ 1). */
  readonly maxSteps: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly json?: ChatRequest['json'];
}

/** What the loop did. */
export interface AgentResult {
  /** The model's final answer. */
  readonly text: string;
  /** Workspace paths written by tools, in the order first written. */
  readonly files: readonly string[];
  /** sha256 of each written file's last content, in the artifact store. */
  readonly artifacts: Readonly<Record<string, string>>;
  /** Model calls made. */
  readonly steps: number;
  /** Tool calls made (refused ones included). */
  readonly toolCalls: number;
}

/** Said to the model in its last allowed step. */
export const LAST_STEP_NOTE = 'You have used every step you were given. Do not call any more tools: answer now with what you have done and what is left.';

export async function runAgent(ctx: NodeContext, instrument: Instrument, model: ChatModel, task: AgentTask): Promise<AgentResult> {
  const messages: ChatMessage[] = [{ role: 'user', text: task.prompt }];
  const definitions = toolDefinitions(task.tools);
  const artifacts: Record<string, string> = {};
  let toolCalls = 0;
  for (let step = 1; ; step++) {
    const last = step >= task.maxSteps;
    if (last && step > 1) messages.push({ role: 'user', text: LAST_STEP_NOTE });
    let turn: Awaited<ReturnType<typeof callModel>>;
    try {
      turn = await callModel(ctx, instrument, model, {
        system: task.system,
        // A snapshot: the conversation grows after the call, and a request once sent is history.
        messages: [...messages],
        tools: last ? undefined : definitions,
        maxTokens: task.maxTokens,
        temperature: task.temperature,
        json: task.json,
      });
    } catch (e) {
      // What the agent did before a call failed (files it wrote) goes with the failure.
      if (e instanceof NodeError && e.output === undefined) throw new NodeError(e.message, { retryable: e.retryable, retryAfterMs: e.retryAfterMs, cause: e, output: { text: '', files: Object.keys(artifacts), artifacts, steps: step - 1, toolCalls } });
      throw e;
    }
    const result = () => ({ text: turn.text, files: Object.keys(artifacts), artifacts, steps: step, toolCalls });
    if (turn.toolCalls.length === 0) return result();
    if (last) {
      // Only a model that ignores the absence of tools gets here (a small local one may).
      throw new NodeError(`the agent asked for more tools after its last step (with.maxSteps: ${task.maxSteps}); raise maxSteps or narrow the task`, { retryable: false, output: result() });
    }
    messages.push({ role: 'assistant', text: turn.text, toolCalls: turn.toolCalls });
    const results = [];
    for (const call of turn.toolCalls) {
      const done = await executeToolCall(ctx, task.tools, call);
      toolCalls++;
      const wrote: Record<string, string> = {};
      for (const [path, content] of Object.entries(done.wrote)) {
        setOwn(wrote, path, await ctx.storeArtifact(content));
        setOwn(artifacts, path, wrote[path]!); // a path written again keeps its place, with its last content's hash
      }
      ctx.toolCall({
        step,
        tool: call.name,
        args: journalArgs(call.input),
        ok: !done.result.isError,
        resultChars: done.result.output.length,
        durationMs: done.durationMs,
        error: done.result.isError ? done.result.output.slice(0, 500) : undefined,
        wrote: Object.keys(wrote).length ? wrote : undefined,
      });
      results.push(done.result);
    }
    messages.push({ role: 'tool', results });
  }
}

/** Arguments as the journal keeps them: long strings (a file's new content) shortened. */
function journalArgs(input: unknown): unknown {
  if (typeof input === 'string') return input.length > 200 ? `${input.slice(0, 200)}… (${input.length} characters)` : input;
  if (Array.isArray(input)) return input.slice(0, 20).map(journalArgs);
  if (input && typeof input === 'object') return Object.fromEntries(Object.entries(input).slice(0, 20).map(([k, v]) => [k, journalArgs(v)]));
  return input;
}
