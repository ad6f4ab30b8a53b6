type Tokenizer = typeof import('gpt-tokenizer/encoding/o200k_base');

/**
 * Counting tokens before a call is sent: for the budget check (a call that would break
 * `budget.tokens` is refused before it costs anything) and for context packing.
 *
 * OpenAI-family model ids are counted exactly with their own encoding (`gpt-tokenizer`:
 * o200k_base for gpt-4o, gpt-4.1, gpt-5, o1/o3/o4; cl100k_base for gpt-4 and gpt-3.5).
 * Other models — Claude, Llama, Qwen, Mistral behind Ollama or vLLM — have tokenizers
 * that are not published for JavaScript or not at all, so they are **approximated with
 * o200k_base**: a modern 200k-entry BPE that splits English and code much as theirs do
 * (expect the true count within about ±15%). Providers with a real counter use it instead:
 * VS Code's `countTokens`, and the local llama.cpp runtime's own tokenizer.
 */

type Encoding = 'o200k_base' | 'cl100k_base';

/** The encoding an OpenAI model id uses; undefined for any other model. */
export function openAiEncoding(modelId: string): Encoding | undefined {
  const id = modelId.toLowerCase().replace(/^openai\//, '');
  if (/^(gpt-3\.5|gpt-4(?![o.\d])|gpt-4-|text-embedding-(3|ada))/.test(id) && !/^gpt-4-?o/.test(id)) return 'cl100k_base';
  if (/^(gpt-4o|gpt-4\.\d|gpt-5|gpt-oss|chatgpt-|o1|o3|o4|codex-)/.test(id)) return 'o200k_base';
  return undefined;
}

/** Whether counts for this model are exact (its own tokenizer) rather than approximated. */
export function isExactCount(modelId: string): boolean {
  return openAiEncoding(modelId) !== undefined;
}

// The encodings' tables are megabytes of JavaScript: loaded the first time something is
// counted, so a command that counts nothing (`symphony validate`, `--version`) never pays.
let o200k: Tokenizer | undefined;
let cl100k: Tokenizer | undefined;

function encodingOf(modelId: string | undefined): Tokenizer {
  if (modelId && openAiEncoding(modelId) === 'cl100k_base') return (cl100k ??= require('gpt-tokenizer/encoding/cl100k_base') as Tokenizer);
  return (o200k ??= require('gpt-tokenizer/encoding/o200k_base') as Tokenizer);
}

/** Tokens of `text` for `modelId` (exact for OpenAI ids, the o200k approximation otherwise). */
export function countTokens(text: string, modelId?: string): number {
  if (!text) return 0;
  return encodingOf(modelId).countTokens(text);
}

/**
 * The longest prefix of `text` that has at most `limit` tokens, cut on a token boundary
 * (never inside a character). Used to shorten what context packing cannot fit whole.
 */
export function truncateToTokens(text: string, limit: number, modelId?: string): string {
  if (limit <= 0) return '';
  const enc = encodingOf(modelId);
  const tokens = enc.encode(text);
  if (tokens.length <= limit) return text;
  let cut = enc.decode(tokens.slice(0, limit));
  // A token may end inside a multi-byte character; drop the replacement character it decodes to.
  while (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}
