import { extractiveSummary } from '../conductor/summarize';
import { callModel, openModel } from '../providers/call';
import type { NodeImplementation } from './types';

const DEFAULT_SENTENCES = 3;

/**
 * Summarizes `with.text` in at most `maxSentences` sentences: with the node's instrument
 * when it has one (abstractive, costs tokens), else extractively (free, deterministic).
 * Output: the summary text.
 */
export const summarizeNode: NodeImplementation<'summarize'> = {
  kind: 'summarize',
  async run(input, ctx) {
    const sentences = input.maxSentences ?? DEFAULT_SENTENCES;
    if (!ctx.instrument) return { output: extractiveSummary(input.text, sentences) };
    const model = await openModel(ctx, ctx.instrument);
    const answer = await callModel(ctx, ctx.instrument, model, {
      system: 'You summarize text faithfully.',
      messages: [{ role: 'user', text: `Summarize in at most ${sentences} ${sentences === 1 ? 'sentence' : 'sentences'}:\n\n${input.text}` }],
    });
    return { output: answer.text.trim() };
  },
};
