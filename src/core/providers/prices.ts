import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { ModelSpec } from '../model/instrument';
import type { TokenUsage } from '../model/run';

/** USD per million tokens. */
export interface Price {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/** When the built-in figures were taken from the providers' public price pages. */
export const PRICES_TAKEN = '2025-08-15';

/**
 * List prices of common hosted models (standard tier, no caching or batch discounts), and
 * the context window each reads. A model id matches the longest key it starts with, so
 * dated snapshots (`gpt-4o-2024-08-06`) and provider prefixes (`openai/gpt-4o` on
 * OpenRouter) find their model. Override per instrument with `model.price`, or for the
 * workspace in `.symphony/prices.yaml`; models not listed cost 0 and the run says so once.
 */
const TABLE: Readonly<Record<string, Price & { readonly contextWindow: number }>> = {
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10, contextWindow: 128_000 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6, contextWindow: 128_000 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8, contextWindow: 1_047_576 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6, contextWindow: 1_047_576 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4, contextWindow: 1_047_576 },
  'gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10, contextWindow: 400_000 },
  'gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2, contextWindow: 400_000 },
  'gpt-5-nano': { inputPerMillion: 0.05, outputPerMillion: 0.4, contextWindow: 400_000 },
  o3: { inputPerMillion: 2, outputPerMillion: 8, contextWindow: 200_000 },
  'o3-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4, contextWindow: 200_000 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4, contextWindow: 200_000 },
  'claude-opus-4': { inputPerMillion: 15, outputPerMillion: 75, contextWindow: 200_000 },
  'claude-sonnet-4': { inputPerMillion: 3, outputPerMillion: 15, contextWindow: 200_000 },
  'claude-3-7-sonnet': { inputPerMillion: 3, outputPerMillion: 15, contextWindow: 200_000 },
  'claude-3-5-sonnet': { inputPerMillion: 3, outputPerMillion: 15, contextWindow: 200_000 },
  'claude-haiku-4': { inputPerMillion: 1, outputPerMillion: 5, contextWindow: 200_000 },
  'claude-3-5-haiku': { inputPerMillion: 0.8, outputPerMillion: 4, contextWindow: 200_000 },
};

/** Tokens a model reads when neither the instrument nor the table says: a small local model's. */
export const DEFAULT_CONTEXT_WINDOW = 8192;

const FREE: Price = { inputPerMillion: 0, outputPerMillion: 0 };

/** The table entry whose key is the longest prefix of `modelId` (provider prefixes ignored). */
function tableEntry(modelId: string) {
  const id = modelId.toLowerCase().replace(/^[\w.-]+\//, '');
  let best: string | undefined;
  for (const key of Object.keys(TABLE)) if (id.startsWith(key) && (!best || key.length > best.length)) best = key;
  return best ? TABLE[best] : undefined;
}

/** Whether a URL points at this machine (an Ollama, LM Studio or llama.cpp server here). */
function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * The price of a model call, or undefined when Symphony does not know it. In order: the
 * instrument's `model.price`, the workspace's `.symphony/prices.yaml`, free for models run
 * on this machine (`local`, `vscode-lm` — billed by its own extension, if at all — and
 * servers on loopback), the built-in table.
 */
export function priceOf(spec: ModelSpec, answeredBy: string, workspacePrices: Readonly<Record<string, Price>> = {}): Price | undefined {
  if (spec.price) return spec.price;
  for (const id of [answeredBy, spec.id]) if (id && Object.hasOwn(workspacePrices, id)) return workspacePrices[id];
  if (spec.provider === 'local' || spec.provider === 'vscode-lm' || isLoopback(spec.baseUrl)) return FREE;
  return tableEntry(answeredBy) ?? (spec.id ? tableEntry(spec.id) : undefined);
}

/** USD for a call's usage at a price. */
export function costOf(tokens: TokenUsage, price: Price): number {
  return (tokens.input * price.inputPerMillion + tokens.output * price.outputPerMillion) / 1_000_000;
}

/** The context window of an instrument's model: its `contextWindow`, the table's, or the default. */
export function contextWindowOf(spec: ModelSpec): number {
  return spec.contextWindow ?? (spec.id ? tableEntry(spec.id)?.contextWindow : undefined) ?? DEFAULT_CONTEXT_WINDOW;
}

const priceFileSchema = z.record(
  z.string(),
  z.strictObject({ inputPerMillion: z.number().min(0), outputPerMillion: z.number().min(0) }),
);

/** Where a workspace overrides prices: `<model id>: { inputPerMillion, outputPerMillion }`. */
export const PRICES_FILE = '.symphony/prices.yaml';

/**
 * The workspace's price overrides. A missing file is no overrides; a broken one is reported
 * (file:line:col when YAML is wrong) and ignored rather than failing every run.
 */
export async function loadWorkspacePrices(root: string): Promise<{ prices: Readonly<Record<string, Price>>; problem?: string }> {
  let text: string;
  try {
    text = await readFile(join(root, PRICES_FILE), 'utf8');
  } catch {
    return { prices: {} };
  }
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    return { prices: {}, problem: `${PRICES_FILE}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1}: ${e.message.split('\n')[0]}` };
  }
  const parsed = priceFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { prices: {}, problem: `${PRICES_FILE}: ${issue.path.join('.') || '(top)'}: ${issue.message} — expected <model id>: { inputPerMillion: <USD>, outputPerMillion: <USD> }` };
  }
  return { prices: Object.assign(Object.create(null) as Record<string, Price>, parsed.data) };
}
