import { randomInt } from 'node:crypto';
import { promises as fsp, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaChat, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { modelLabel } from '../model/instrument';
import { importEsm } from './importEsm';
import { ANY_JSON_OBJECT, actionSchema, actionText, describeTools, grammarSchema, parseAction, schemaText, worstCaseToolCallTokens, worstCaseTokens, type GrammarSchema } from './localJson';
import { resolveModelPath } from './names';
import type { ModelInstrument, ProviderModule } from './registry';
import { ModelCallError, ProviderUnavailableError, type ChatModel, type ChatRequest, type ChatTurn, type FinishReason, type ProviderContext } from './types';
import type { TokenUsage } from '../model/run';

/**
 * The `local` provider: a GGUF model file run in this process by llama.cpp, through
 * node-llama-cpp — for people with no API key and no network.
 *
 * node-llama-cpp is an optional dependency, never bundled (it is ESM-only with top-level
 * await, and its native binaries are large): it is loaded on first use with a real
 * dynamic `import()` (importEsm.ts), which esbuild keeps as is for an external package and
 * tsx leaves alone, so it works from the CommonJS bundles and from the unit tests alike. When it is
 * missing, every local instrument is unavailable with the one command that installs it.
 *
 * One llama.cpp runtime per process (CPU only, no download, no build); models cached by
 * file (path, size and modification time) with a small LRU, so the calls of a melody
 * load a model once; a fresh context per call, sized to the model's trained context or
 * `contextWindow` (4096 at most by default). Conversations are rendered with the model's
 * own chat template (`tokenizer.chat_template`), or node-llama-cpp's best match for
 * models without one. JSON answers and tool calls are constrained by grammars
 * (`localJson.ts`): whatever the weights emit ends as text, a tool call or a clear error.
 */

/** The node-llama-cpp release Symphony is built and tested against. */
export const LOCAL_RUNTIME_VERSION = '3.21.1';
const INSTALL = `npm install node-llama-cpp@${LOCAL_RUNTIME_VERSION}`;
/** Context size when the instrument has no `contextWindow` (the model's trained context if smaller). */
const DEFAULT_CONTEXT = 4096;
/** Output tokens when neither the request nor a grammar says. */
const DEFAULT_MAX_TOKENS = 512;
/** llama.cpp's usual sampling temperature, when neither the request nor the instrument sets one. */
const DEFAULT_TEMPERATURE = 0.8;
/** Models kept loaded: one melody's instruments rarely use more than two files. */
const MODEL_CACHE_SIZE = 2;

type LlamaCpp = typeof import('node-llama-cpp');

/** The runtime could not be loaded: not installed, or no binary for this machine (the extension offers to install it). */
export class RuntimeMissing extends ProviderUnavailableError {}

// ---------------------------------------------------------------------------------------
// The runtime: node-llama-cpp, found and loaded once

const runtimeFolders: string[] = [];

/**
 * Another folder that may hold `node_modules/node-llama-cpp`, searched after Symphony's
 * own installation and before the current folder and the global npm folder — for a
 * surface that installs the runtime somewhere of its own (the extension's storage).
 */
export function addLocalRuntimeFolder(folder: string): void {
  if (!runtimeFolders.includes(folder)) runtimeFolders.unshift(folder);
}

/** The global npm folder's parent (`npm install -g` puts packages in its `node_modules`). */
function globalNpmFolder(): string {
  const prefix = process.env.npm_config_prefix ?? (process.platform === 'win32' ? dirname(process.execPath) : dirname(dirname(process.execPath)));
  return process.platform === 'win32' ? prefix : join(prefix, 'lib');
}

/** Where the runtime is looked for, in order, after Symphony's own node_modules. */
function candidateFolders(): string[] {
  return [...new Set([...runtimeFolders, process.cwd(), globalNpmFolder()])];
}

/** How to install the runtime, in words. */
function howToInstall(): string {
  return `run \`${INSTALL}\` in the folder you run the symphony CLI from (${process.cwd()}), or \`npm install -g node-llama-cpp@${LOCAL_RUNTIME_VERSION}\` for the CLI everywhere; in VS Code, Symphony offers to install it`;
}

/** llama.cpp's last error messages, newest last, numbered from the start of the process. */
const llamaErrors: { readonly n: number; readonly text: string }[] = [];
let llamaErrorCount = 0;

function keepLlamaError(message: string) {
  llamaErrors.push({ n: llamaErrorCount++, text: message.trim() });
  if (llamaErrors.length > 20) llamaErrors.shift();
}

/** What llama.cpp said went wrong since `mark` (a past llamaErrorCount), without its prefixes; undefined when nothing. */
function llamaSaid(mark: number): string | undefined {
  const said = llamaErrors.filter((e) => e.n >= mark && e.text && !/failed to load model$/i.test(e.text)).map((e) => e.text.replace(/^[\w:]+: (error loading model: )?/, ''));
  return said.length ? said.join('; ') : undefined;
}

let loadedRuntime: Promise<{ cpp: LlamaCpp; llama: Llama; from: string }> | undefined;

async function importRuntime(): Promise<{ cpp: LlamaCpp; from: string }> {
  const failures: string[] = [];
  try {
    return { cpp: await importEsm<LlamaCpp>('node-llama-cpp'), from: 'Symphony’s own node_modules' };
  } catch (e) {
    failures.push(errorText(e));
  }
  for (const folder of candidateFolders()) {
    let entry: string;
    try {
      entry = createRequire(join(folder, 'noop.js')).resolve('node-llama-cpp');
    } catch {
      continue; // not installed there
    }
    try {
      return { cpp: await importEsm<LlamaCpp>(pathToFileURL(entry).href), from: dirname(dirname(entry)) };
    } catch (e) {
      failures.push(`${entry}: ${errorText(e)}`);
    }
  }
  const broken = failures.filter((f) => !/Cannot find (package|module) 'node-llama-cpp'/.test(f));
  throw new RuntimeMissing(
    `local models need node-llama-cpp, which is ${broken.length ? `installed but does not load (${broken.join('; ')})` : 'not installed'}: ${howToInstall()}`,
  );
}

/** Threads llama.cpp computes with: `SYMPHONY_LLAMA_THREADS`, else half the cores, at most 4. */
export function localThreads(): number {
  const set = Number(process.env.SYMPHONY_LLAMA_THREADS);
  if (Number.isInteger(set) && set >= 1) return set;
  // llama.cpp threads spin while they wait; more threads than free cores slows everything down.
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

/** node-llama-cpp and its llama.cpp runtime, loaded on first use (a failure is retried next time). */
function runtime(): Promise<{ cpp: LlamaCpp; llama: Llama; from: string }> {
  loadedRuntime ??= (async () => {
    const { cpp, from } = await importRuntime();
    try {
      const llama = await cpp.getLlama({
        gpu: false,
        build: 'never',
        skipDownload: true,
        maxThreads: localThreads(),
        logLevel: cpp.LlamaLogLevel.error,
        // Kept to explain failures ("Failed to load model" alone says nothing), not printed.
        logger: (_level, message) => keepLlamaError(message),
        progressLogs: false,
      });
      return { cpp, llama, from };
    } catch (e) {
      if (e instanceof cpp.NoBinaryFoundError) {
        throw new RuntimeMissing(
          `node-llama-cpp (${from}) has no prebuilt llama.cpp binary for ${process.platform}-${process.arch}: the binaries come as optional packages (@node-llama-cpp/${process.platform}-${process.arch}); reinstall with \`${INSTALL}\`, without --omit=optional`,
        );
      }
      throw new RuntimeMissing(`node-llama-cpp (${from}) could not start llama.cpp: ${errorText(e)}`);
    }
  })();
  loadedRuntime.catch(() => (loadedRuntime = undefined));
  return loadedRuntime;
}

/**
 * Whether the local runtime is installed and starts on this machine, and in words where
 * it is or how to install it — for `symphony models` and the extension's offer to install.
 */
export async function localRuntimeStatus(): Promise<{ installed: boolean; detail: string }> {
  try {
    const { cpp, llama, from } = await runtime();
    return { installed: true, detail: `node-llama-cpp ${await cpp.getModuleVersion()} (${from}), llama.cpp on ${llama.maxThreads} CPU thread${llama.maxThreads === 1 ? '' : 's'}` };
  } catch (e) {
    return { installed: false, detail: errorText(e) };
  }
}

// ---------------------------------------------------------------------------------------
// Model files

export { resolveModelPath } from './names';

/** The first bytes of a file, printable if they are, else in hex. */
function describeStart(bytes: Buffer): string {
  if (bytes.length === 0) return 'nothing: it is empty';
  return /^[\x20-\x7e]+$/.test(bytes.toString('latin1')) ? JSON.stringify(bytes.toString('latin1')) : [...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

/** Checks that the instrument's model file exists and is GGUF; returns its path and stats. */
async function modelFile(instrument: ModelInstrument, workspaceRoot: string): Promise<{ path: string; stats: Stats }> {
  const configured = instrument.model.path;
  if (!configured) throw new ProviderUnavailableError(`instrument ${instrument.ref} has no model.path: a local model needs the path of its GGUF file`);
  const path = resolveModelPath(configured, workspaceRoot);
  const named = configured === path ? `model.path of ${instrument.ref}` : `model.path "${configured}" of ${instrument.ref}`;
  let stats: Stats;
  try {
    stats = await fsp.stat(path);
  } catch {
    throw new ProviderUnavailableError(`no GGUF model at ${path} (${named}): put a .gguf model file there, or point model.path at one (relative paths are taken from the workspace root, ~ is your home folder)`);
  }
  if (!stats.isFile()) throw new ProviderUnavailableError(`${path} is not a file (${named}): model.path must name a .gguf model file`);
  const header = Buffer.alloc(24);
  const handle = await fsp.open(path, 'r');
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(header, 0, header.length, 0));
  } finally {
    await handle.close();
  }
  if (length < 4 || header.toString('latin1', 0, 4) !== 'GGUF') {
    throw new ProviderUnavailableError(`${path} is not a GGUF file (it starts with ${describeStart(header.subarray(0, Math.min(4, length)))}, not "GGUF"); ${named} must name a llama.cpp model in GGUF format`);
  }
  // A header llama.cpp cannot read can hang node-llama-cpp's own GGUF reader: refuse it here.
  const version = length >= 8 ? header.readUInt32LE(4) : 0;
  if (length >= 8 && version !== 2 && version !== 3) {
    throw new ProviderUnavailableError(`${path} is GGUF version ${version}, which llama.cpp does not read (it reads versions 2 and 3) (${named})`);
  }
  const tensors = length >= 24 ? header.readBigUInt64LE(8) : 0n;
  const entries = length >= 24 ? header.readBigUInt64LE(16) : 0n;
  // Each tensor description takes at least 24 bytes and each metadata entry 13.
  if (length < 24 || tensors * 24n + entries * 13n > BigInt(stats.size - 24)) {
    throw new ProviderUnavailableError(
      `${path} is not a complete GGUF file: ${length < 24 ? 'it ends inside its header' : `its header announces ${tensors} tensors and ${entries} metadata entries, more than its ${stats.size} bytes can hold`} — a download cut short? (${named})`,
    );
  }
  return { path, stats };
}

interface CachedModel {
  readonly model: Promise<LlamaModel>;
  users: number;
}

/**
 * Loaded models by file, least recently used first. A model in use is never disposed; an
 * evicted one goes when its last call ends.
 */
const models = new Map<string, CachedModel>();
let modelLoads = 0;

/** How many model files this process has loaded, and which are loaded now (for `symphony models` and tests). */
export function localModelStats(): { readonly loads: number; readonly loaded: readonly string[] } {
  return { loads: modelLoads, loaded: [...models.keys()].map((k) => k.slice(0, k.lastIndexOf('\0'))) };
}

function evict(key: string, entry: CachedModel) {
  models.delete(key);
  void entry.model.then((m) => m.dispose(), () => undefined);
}

function evictModels() {
  for (const [key, entry] of models) {
    if (models.size <= MODEL_CACHE_SIZE) return;
    if (entry.users === 0) evict(key, entry);
  }
}

/** Runs `use` with the model of `path` loaded (from the cache when the file has not changed). */
async function withModel<T>(path: string, stats: Stats, ref: string, use: (model: LlamaModel, llama: Llama, cpp: LlamaCpp) => Promise<T>): Promise<T> {
  const { cpp, llama } = await runtime();
  const key = `${path}\0${stats.size}:${stats.mtimeMs}`;
  let entry = models.get(key);
  if (entry) models.delete(key); // re-inserted below as the most recently used
  else {
    // An older version of a file replaced on disk is not needed again.
    for (const [other, stale] of models) if (other.startsWith(`${path}\0`) && stale.users === 0) evict(other, stale);
    modelLoads++;
    const mark = llamaErrorCount;
    const model = llama.loadModel({ modelPath: path, gpuLayers: 0 }).catch(async (e: unknown) => {
      models.delete(key);
      // llama.cpp's reason reaches the logger from its own thread, possibly after the failure.
      await new Promise((r) => setTimeout(r, 50));
      throw new ProviderUnavailableError(`llama.cpp could not load the GGUF model at ${path} (model.path of ${ref}): ${llamaSaid(mark) ?? errorText(e)}`);
    });
    entry = { model, users: 0 };
  }
  models.set(key, entry);
  entry.users++;
  evictModels();
  try {
    return await use(await entry.model, llama, cpp);
  } finally {
    entry.users--;
    evictModels();
  }
}

// ---------------------------------------------------------------------------------------
// Calls

/**
 * The grammar of a schema. llama.cpp refuses grammars whose nested bounded repetitions
 * multiply past its limit (a list of up to 200 items of strings of up to 2,000
 * characters): such a schema is used without its length bounds (the answer's length is
 * then bounded by maxTokens), and a schema llama.cpp still cannot take falls back to any
 * JSON value — noted in the node's log — rather than failing the call.
 */
async function grammarFor(llama: Llama, schema: GrammarSchema, onNote: ((note: string) => void) | undefined) {
  const attempts = repetitionLoad(schema) > REPETITION_LIMIT ? [unbounded(schema), ANY_JSON_OBJECT] : [schema, unbounded(schema), ANY_JSON_OBJECT];
  let last: unknown;
  for (const attempt of attempts) {
    try {
      const grammar = await llama.createGrammarForJsonSchema(attempt as never);
      if (attempt === ANY_JSON_OBJECT && schema !== ANY_JSON_OBJECT) onNote?.(`llama.cpp cannot constrain the answer to its schema (${errorText(last)}); any JSON object is accepted instead`);
      return grammar;
    } catch (e) {
      last = e;
    }
  }
  throw new ModelCallError(`llama.cpp cannot build a grammar for the requested JSON: ${errorText(last)}`, { retryable: false, cause: last });
}

/** Past this many nested repetitions llama.cpp's grammar parser gives up (its own limit is about 2,000). */
const REPETITION_LIMIT = 1000;

/** How many repetitions a schema's bounds nest, multiplied: what llama.cpp's limit is about. */
function repetitionLoad(s: GrammarSchema): number {
  if (typeof s !== 'object' || s === null) return 1;
  const o = s as Record<string, unknown>;
  const own = Math.max(1, typeof o.maxLength === 'number' ? o.maxLength : 1, typeof o.maxItems === 'number' ? o.maxItems : 1);
  const children: unknown[] = [];
  if (o.items) children.push(o.items);
  if (Array.isArray(o.prefixItems)) children.push(...o.prefixItems);
  if (o.properties && typeof o.properties === 'object') children.push(...Object.values(o.properties));
  if (Array.isArray(o.oneOf)) children.push(...o.oneOf);
  if (o.$defs && typeof o.$defs === 'object') children.push(...Object.values(o.$defs));
  return own * children.reduce<number>((max, c) => Math.max(max, repetitionLoad(c as GrammarSchema)), 1);
}

/** The schema without length and item-count bounds. */
function unbounded(s: GrammarSchema): GrammarSchema {
  if (Array.isArray(s)) return s.map((x) => unbounded(x as GrammarSchema)) as unknown as GrammarSchema;
  if (typeof s !== 'object' || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'maxLength' || k === 'minLength' || k === 'maxItems' || k === 'minItems') continue;
    out[k] = typeof v === 'object' && v !== null ? (k === 'properties' || k === '$defs' ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, unbounded(pv as GrammarSchema)])) : unbounded(v as GrammarSchema)) : v;
  }
  return out as GrammarSchema;
}

/** How one request is asked of the model. */
interface Plan {
  readonly history: ChatHistoryItem[];
  /** The grammar's schema, when the answer is constrained. */
  readonly schema?: GrammarSchema;
  /** `tools`: the answer is an action; `json`: JSON text; `text`: free text. */
  readonly mode: 'text' | 'json' | 'tools';
  /** Tokens the answer needs at most to be complete (Infinity when the grammar does not bound it). */
  readonly worstCase: number;
}

function plan(request: ChatRequest): Plan {
  const tools = request.tools ?? [];
  const json = request.json ? (request.json.schema ? grammarSchema(request.json.schema) : ANY_JSON_OBJECT) : undefined;
  const instructions: string[] = [];
  if (request.system?.trim()) instructions.push(request.system.trim());
  let schema: GrammarSchema | undefined;
  let worstCase = Infinity;
  if (tools.length) {
    instructions.push(describeTools(tools, json !== undefined));
    if (request.json?.schema) instructions.push(`Your final answer is JSON matching this schema: ${schemaText(request.json.schema)}`);
    schema = actionSchema(tools, json);
    worstCase = worstCaseToolCallTokens(schema);
  } else if (json) {
    instructions.push(request.json?.schema ? `Reply with one JSON value matching this JSON Schema, and nothing else: ${schemaText(request.json.schema)}` : 'Reply with one JSON object and nothing else.');
    schema = json;
    worstCase = worstCaseTokens(json);
  }

  const history: ChatHistoryItem[] = [];
  if (instructions.length) history.push({ type: 'system', text: instructions.join('\n\n') });
  // Templates often insist that user and model turns alternate: consecutive user texts (a
  // tool result after a user message) become one turn.
  const user = (text: string) => {
    const last = history[history.length - 1];
    if (last?.type === 'user') last.text = `${last.text}\n\n${text}`;
    else history.push({ type: 'user', text });
  };
  for (const m of request.messages) {
    if (m.role === 'user') user(m.text);
    else if (m.role === 'assistant') history.push({ type: 'model', response: [[m.text, ...(m.toolCalls ?? []).map(actionText)].filter(Boolean).join('\n')] });
    else user(m.results.map((r) => `${r.isError ? 'Error from' : 'Result of'} tool ${r.name} (call ${r.callId}):\n${r.output}`).join('\n\n'));
  }
  history.push({ type: 'model', response: [] });
  return { history, schema, mode: tools.length ? 'tools' : json ? 'json' : 'text', worstCase };
}

/** A local model as a ChatModel, plus the prompt it evaluates for a request. */
export interface LocalChatModel extends ChatModel {
  /**
   * The prompt this model evaluates for `request`: the conversation rendered by its chat
   * template, as the runtime's tokens read back (special tokens such as `<s>` included),
   * and its length in tokens — the `input` of the call's usage.
   */
  prompt(request: ChatRequest): Promise<{ readonly text: string; readonly tokens: number }>;
}

/** Chat wrappers by model: the model's template is parsed once. */
const wrappers = new WeakMap<LlamaModel, ChatWrapper>();

/** The request as the model reads it: the plan, the prompt rendered by the model's chat template, and its tokens. */
function render(model: LlamaModel, cpp: LlamaCpp, request: ChatRequest) {
  let wrapper = wrappers.get(model);
  if (!wrapper) wrappers.set(model, (wrapper = cpp.resolveChatWrapper(model)));
  const p = plan(request);
  const tokens = wrapper.generateContextState({ chatHistory: p.history }).contextText.tokenize(model.tokenizer);
  return { plan: p, wrapper, tokens };
}

function openLocal(instrument: ModelInstrument, workspaceRoot: string): LocalChatModel {
  const id = modelLabel(instrument.model);
  const ref = instrument.ref;
  /** Checked again on every call: a model replaced on disk is loaded again. */
  const file = () => modelFile(instrument, workspaceRoot);
  const using = async <T>(use: (model: LlamaModel, llama: Llama, cpp: LlamaCpp) => Promise<T>) => {
    const { path, stats } = await file();
    return withModel(path, stats, ref, use);
  };

  return {
    provider: 'local',
    id,
    async countTokens(text, signal) {
      signal.throwIfAborted();
      return using(async (model) => (text ? model.tokenize(text).length : 0));
    },
    async prompt(request) {
      return using(async (model, _llama, cpp) => {
        const { tokens } = render(model, cpp, request);
        return { text: model.detokenize(tokens, true), tokens: tokens.length };
      });
    },
    async countRequest(request, signal) {
      signal.throwIfAborted();
      return using(async (model, _llama, cpp) => render(model, cpp, request).tokens.length);
    },
    async chat(request, options): Promise<ChatTurn> {
      const { signal } = options;
      signal.throwIfAborted();
      const mark = llamaErrorCount;
      return using(async (model, llama, cpp) => {
        const contextSize = contextSizeOf(instrument, model);
        const { plan: p, wrapper, tokens } = render(model, cpp, request);
        const input = tokens.length;
        let context: LlamaContext | undefined;
        let chat: LlamaChat | undefined;
        try {
          if (input >= contextSize) {
            throw new ModelCallError(`the prompt has ${input} tokens and ${id} reads at most ${contextSize} (model.contextWindow, or the model's trained context); shorten it or raise contextWindow`, { retryable: false });
          }
          const requested = request.maxTokens ?? DEFAULT_MAX_TOKENS;
          // A grammar whose every answer is bounded gets room for its longest one.
          const wanted = Number.isFinite(p.worstCase) ? Math.max(requested, p.worstCase) : requested;
          const maxTokens = Math.min(wanted, contextSize - input);
          const temperature = request.temperature ?? instrument.model.temperature ?? DEFAULT_TEMPERATURE;
          const grammar = p.schema ? await grammarFor(llama, p.schema, options.onNote) : undefined;
          context = await model.createContext({ contextSize, sequences: 1 });
          chat = new cpp.LlamaChat({ contextSequence: context.getSequence(), chatWrapper: wrapper });
          signal.throwIfAborted();
          let output = 0;
          const streamed = p.mode !== 'tools' && options.onText;
          const response = await chat.generateResponse(p.history, {
            grammar,
            maxTokens,
            temperature,
            // A fresh seed per call: a retry at a temperature above 0 must be able to answer differently.
            seed: randomInt(2 ** 31),
            signal,
            stopOnAbortSignal: false,
            onToken: (tokens) => (output += tokens.length),
            ...(streamed ? { onTextChunk: (chunk: string) => chunk && options.onText!(chunk) } : {}),
          });
          const cut = response.metadata.stopReason === 'maxTokens';
          const usage = { input, output };
          if (p.mode === 'text') return { text: response.response, toolCalls: [], usage, model: id, finishReason: cut ? 'length' : 'stop' };
          // JSON grammars end with newlines; a limit reached among them cut nothing.
          if (p.mode === 'json') return { text: response.response, toolCalls: [], usage, model: id, finishReason: cut && !isJson(response.response) ? 'length' : 'stop' };
          const action = unusable(usage, () => parseAction(response.response, request.tools!, cut, temperature > 0));
          if (action.kind === 'tool') return { text: '', toolCalls: [action.call], usage, model: id, finishReason: 'tool-calls' };
          if (action.text) options.onText?.(action.text);
          const finishReason: FinishReason = action.complete ? 'stop' : 'length';
          return { text: action.text, toolCalls: [], usage, model: id, finishReason };
        } catch (e) {
          if (signal.aborted) throw signal.reason;
          if (e instanceof ModelCallError || e instanceof ProviderUnavailableError) throw e;
          const said = llamaSaid(mark);
          throw new ModelCallError(`the local model ${id} failed: ${errorText(e)}${said ? ` (llama.cpp: ${said})` : ''}`, { retryable: false, cause: e });
        } finally {
          chat?.dispose();
          await context?.dispose();
        }
      });
    },
  };
}

/** `read()`, whose ModelCallError (an answer that cannot be used) carries what the answer cost. */
function unusable<T>(usage: TokenUsage, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof ModelCallError)) throw e;
    throw new ModelCallError(e.message, { retryable: e.retryable, cause: e.cause, usage });
  }
}

/** Opens the instrument's model: the runtime is installed, the file is GGUF, and it loads. */
async function open(instrument: ModelInstrument, ctx: ProviderContext): Promise<LocalChatModel> {
  const { path, stats } = await modelFile(instrument, ctx.workspaceRoot);
  await withModel(path, stats, instrument.ref, async () => undefined);
  return openLocal(instrument, ctx.workspaceRoot);
}

export const localProvider: ProviderModule = {
  open: (instrument, ctx) => open(instrument, ctx),
  async check(instrument, ctx) {
    try {
      const { path, stats } = await modelFile(instrument, ctx.workspaceRoot);
      const { from } = await runtime();
      return await withModel(path, stats, instrument.ref, async (model) => {
        const name = model.fileInfo.metadata.general?.name ?? modelLabel(instrument.model);
        const context = contextSizeOf(instrument, model);
        return {
          reachable: true,
          detail: `${name} (${model.typeDescription}, ${formatBytes(model.size)}, trained context ${model.trainContextSize}, ${context} used) from ${path}, run by node-llama-cpp (${from}) on the CPU`,
        };
      });
    } catch (e) {
      return { reachable: false, detail: errorText(e) };
    }
  },
};

/** The context of a call: the model's trained context or the instrument's contextWindow (DEFAULT_CONTEXT when unset), the smaller. */
function contextSizeOf(instrument: ModelInstrument, model: LlamaModel): number {
  return Math.min(model.trainContextSize || DEFAULT_CONTEXT, instrument.model.contextWindow ?? DEFAULT_CONTEXT);
}

function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
