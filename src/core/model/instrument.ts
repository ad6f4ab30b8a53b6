import { z } from 'zod';

/** Ensembles and instruments, DESIGN.md §3. */

export const PROVIDERS = ['vscode-lm', 'openai-compatible', 'anthropic', 'local'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export const modelSpecSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS).meta({
      description:
        'vscode-lm (VS Code language models, e.g. Copilot), openai-compatible (OpenAI, Ollama, LM Studio, vLLM, llama.cpp server, OpenRouter), anthropic, or local (a GGUF file run in-process by llama.cpp).',
    }),
    id: z.string().min(1).meta({ description: 'The model id, e.g. "llama3.1", "gpt-4o-mini", "claude-sonnet-4-5". Required for openai-compatible and anthropic; for vscode-lm it selects a model by id.' }).optional(),
    vendor: z.string().min(1).meta({ description: 'vscode-lm: the vendor of the model, e.g. "copilot".' }).optional(),
    family: z.string().min(1).meta({ description: 'vscode-lm: the model family, e.g. "gpt-4o".' }).optional(),
    path: z.string().min(1).meta({ description: 'local: the GGUF model file, workspace-relative or absolute (`~` is your home folder).' }).optional(),
    baseUrl: z.url().meta({ description: 'API base URL (openai-compatible, anthropic), e.g. "http://127.0.0.1:11434/v1" for Ollama.' }).optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name such as OPENAI_API_KEY')
      .meta({ description: 'Environment variable holding the API key in the CLI (the extension uses SecretStorage: "Symphony: Set API Key…"). Never put the key itself in a file.' })
      .optional(),
    maxTokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    contextWindow: z.number().int().positive().meta({ description: 'Tokens the model reads at most; context packing stays under it. Known models have a default.' }).optional(),
    price: z
      .strictObject({
        inputPerMillion: z.number().min(0),
        outputPerMillion: z.number().min(0),
      })
      .meta({ description: 'USD per million tokens, overriding the built-in price table.' })
      .optional(),
  })
  .superRefine((m, ctx) => {
    if ((m.provider === 'openai-compatible' || m.provider === 'anthropic') && m.id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: `a ${m.provider} model needs an \`id\`, e.g. ${m.provider === 'anthropic' ? '"claude-sonnet-4-5"' : '"gpt-4o-mini" or "llama3.1"'}` });
    }
    if (m.provider === 'local' && m.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'a local model needs a `path` to its GGUF file, e.g. "models/qwen2.5-0.5b-instruct-q4_k_m.gguf"' });
    }
  })
  .meta({ description: 'The model this instrument calls.' });
export type ModelSpec = z.output<typeof modelSpecSchema>;

export const instrumentSchema = z
  .strictObject({
    $schema: z.string().optional(),
    nickname: z.string().min(1).meta({ description: 'What the Conductor and the handoff log call this instrument, e.g. "Tuba".' }),
    kind: z.enum(['model', 'script', 'service']).meta({ description: 'model: an AI model; script: a program; service: an HTTP endpoint.' }),
    role: z.string().meta({ description: 'What this instrument is for, in a sentence.' }).optional(),
    handles: z.array(z.string()).meta({ description: 'Globs of the files this instrument is responsible for (used for routing).' }).optional(),
    model: modelSpecSchema.optional(),
    script: z
      .strictObject({
        command: z.string().min(1),
        args: z.array(z.string()).optional(),
      })
      .meta({ description: 'The program a script instrument runs (an argument array, no shell).' })
      .optional(),
    service: z
      .strictObject({
        url: z.url(),
        method: z.enum(['GET', 'POST', 'PUT']).default('POST'),
      })
      .meta({ description: 'The endpoint a service instrument calls.' })
      .optional(),
    concurrency: z.number().int().min(1).max(64).meta({ description: 'Most calls to this instrument at once.' }).default(1),
  })
  .superRefine((v, ctx) => {
    const needed = v.kind === 'model' ? 'model' : v.kind;
    if (v[needed] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `a ${v.kind} instrument needs a \`${needed}:\` section` });
    }
  })
  .meta({ title: 'Symphony instrument', description: 'One instrument of an ensemble: a model, a script or a service.' });
export type InstrumentSpec = z.output<typeof instrumentSchema>;

export const ensembleSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    version: z.union([z.string(), z.number()]).transform(String).optional(),
    summarizer: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'an instrument as ensemble/instrument')
      .meta({ description: 'A small-model instrument (ensemble/instrument) that writes summary.txt after each turn; without one the summary is extractive.' })
      .optional(),
  })
  .meta({ title: 'Symphony ensemble', description: 'Metadata of an ensemble folder.' });
export type EnsembleSpec = z.output<typeof ensembleSchema>;

/** A loaded instrument with where it came from. */
export interface Instrument extends InstrumentSpec {
  /** `ensemble/instrument`, how melodies refer to it. */
  readonly ref: string;
  readonly ensemble: string;
  readonly id: string;
  readonly file: string;
}

/** A loaded ensemble: its metadata (if `ensemble.yaml` exists) and its valid instruments. */
export interface Ensemble {
  readonly id: string;
  readonly dir: string;
  readonly meta?: EnsembleSpec;
  readonly metaFile?: string;
  readonly instruments: readonly Instrument[];
  /** Instrument files that failed to load, so views can show them instead of hiding them. */
  readonly broken: readonly { readonly id: string; readonly file: string }[];
}

/**
 * How a model is named in views, handoff entries and prices: its id, else (vscode-lm) its
 * family or vendor, else (local) the GGUF file's name.
 */
export function modelLabel(spec: ModelSpec): string {
  if (spec.id) return spec.id;
  if (spec.family ?? spec.vendor) return [spec.vendor, spec.family].filter(Boolean).join('/');
  if (spec.path) return spec.path.split(/[\\/]/).pop()!.replace(/\.gguf$/i, '');
  return spec.provider === 'vscode-lm' ? 'any VS Code model' : spec.provider;
}
