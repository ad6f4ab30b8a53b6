import { buildPrompt } from '../context/prompt';
import { DEFAULT_MAX_STEPS } from '../model/nodeKinds';
import { runAgent } from '../providers/agent';
import { callModel, openModel } from '../providers/call';
import { errorMessage, permanentError } from './support';
import { NodeError, type NodeImplementation } from './types';

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
    const prompt = await buildPrompt(ctx, instrument, input, system);
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
