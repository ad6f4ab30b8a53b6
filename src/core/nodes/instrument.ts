import { buildPrompt } from '../context/prompt';
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
 * A ProviderUnavailableError passes through untouched: the engine moves on to the node's
 * `fallback:` instruments when it sees one.
 */
export const instrumentNode: NodeImplementation<'instrument'> = {
  kind: 'instrument',
  async run(input, ctx) {
    const instrument = ctx.instrument;
    if (!instrument) throw permanentError('an instrument node needs `instrument:` (ensemble/instrument)');
    const system = [instrument.role, input.system].filter((s) => s?.trim()).join('\n\n');
    const prompt = await buildPrompt(ctx, instrument, input, system || undefined);
    const model = await openModel(ctx, instrument);
    const answer = await callModel(ctx, instrument, model, {
      system: system || undefined,
      messages: [{ role: 'user', text: prompt }],
      maxTokens: input.maxTokens ?? instrument.model?.maxTokens,
      temperature: input.temperature ?? instrument.model?.temperature,
      json: input.json ? {} : undefined,
    });
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
