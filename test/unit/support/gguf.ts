import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A tiny, real llama.cpp model for tests: `writeTinyGguf` writes a llama-architecture GGUF
 * v3 file with seeded random F32 weights (390 KB at the defaults, in about 20 ms),
 * byte-identical run to run. node-llama-cpp loads and runs it like any downloaded model:
 * its tokenizer, streaming, token counts, cancellation and grammar-constrained JSON are
 * real; the text it writes is nonsense. Assert on structure, token counts and protocol —
 * never on content. (Every fact behind this file: /work/shared/local-models.md.)
 *
 * The vocabulary encodes any text: `<unk>`, `<s>`, `</s>`, the 256 byte tokens, printable
 * ASCII with `▁` for the space (SentencePiece style), and a few words with all their
 * prefixes (the llama tokenizer only merges pairs of tokens it knows). The output rows of
 * the control tokens and of the bytes that are not printable ASCII are zero, so greedy
 * decoding (temperature 0) never picks end-of-text nor writes broken UTF-8: a greedy
 * answer runs to `maxTokens` (unless it happens to spell out the template's end marker).
 * At a temperature above 0 it may end early.
 */

/** How the tiny model is shaped. Every field has a default; the defaults are what tests need. */
export interface TinyGgufOptions {
  /** Seeds the weights: the same seed gives the same bytes (default 1). */
  readonly seed?: number;
  /** Embedding width (default 64; a multiple of `heads`). */
  readonly embedding?: number;
  /** Transformer blocks (default 1). */
  readonly layers?: number;
  /** Attention heads (default 4). */
  readonly heads?: number;
  /** `llama.context_length`: the context the model was "trained" for (default 4096, room for tool descriptions at one token per character). */
  readonly contextLength?: number;
  /** `general.name` (default "symphony-tiny"). */
  readonly name?: string;
  /**
   * `tokenizer.chat_template`: the Jinja template node-llama-cpp renders conversations
   * with. Default `TINY_CHAT_TEMPLATE`; `false` writes none (node-llama-cpp then picks a
   * wrapper by architecture, as for old GGUFs).
   */
  readonly chatTemplate?: string | false;
}

/**
 * The ChatML template (Qwen, many fine-tunes): the shape of real templates, and one that
 * node-llama-cpp recognises at once — an unknown template costs it seconds of probing on
 * every load.
 */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Words the vocabulary holds whole (and every prefix of each), so common text takes few tokens. */
const WORDS = ['▁the', '▁and', '▁tool', '▁answer', '▁hello', '▁world', '▁model', '▁test', '▁symphony', '▁json', 'ing', 'tion', '▁assistant', '▁user', '▁system'];

const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types (ggml/gguf.h). */
const enum KvType {
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
}

/** llama.cpp token types. */
const enum TokenType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  Byte = 6,
}

interface Vocabulary {
  readonly tokens: string[];
  readonly scores: number[];
  readonly types: number[];
  /** Tokens the model must never pick greedily: control tokens and non-printable bytes. */
  readonly silent: Set<number>;
}

function vocabulary(): Vocabulary {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.Unknown, TokenType.Control, TokenType.Control];
  const silent = new Set([0, 1, 2]);
  for (let b = 0; b < 256; b++) {
    const printable = b === 0x0a || (b >= 0x20 && b < 0x7f);
    if (!printable) silent.add(tokens.length);
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.Byte);
  }
  const seen = new Set(tokens);
  const add = (t: string) => {
    if (seen.has(t)) return;
    seen.add(t);
    tokens.push(t);
    types.push(TokenType.Normal);
  };
  add('▁');
  for (let c = 0x21; c < 0x7f; c++) add(String.fromCharCode(c));
  for (const word of WORDS) for (let n = 2; n <= [...word].length; n++) add([...word].slice(0, n).join(''));
  // Longer pieces score higher, so the tokenizer prefers whole words to letters.
  const scores = tokens.map((t, i) => (types[i] === TokenType.Normal ? [...t].length : 0));
  return { tokens, scores, types, silent };
}

/** A seeded normal distribution (mulberry32 + Box–Muller): the same seed, the same weights. */
function normalSource(seed: number): (out: Float32Array, std: number) => Float32Array {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (out, std) => {
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - uniform())) * std;
      const a = 2 * Math.PI * uniform();
      out[i] = r * Math.cos(a);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
    }
    return out;
  };
}

/** Little-endian bytes, appended. */
class ByteWriter {
  private chunks: Buffer[] = [];
  length = 0;
  private push(b: Buffer) {
    this.chunks.push(b);
    this.length += b.length;
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  raw(b: Buffer) {
    this.push(b);
  }
  pad(alignment: number) {
    const n = (alignment - (this.length % alignment)) % alignment;
    if (n) this.push(Buffer.alloc(n));
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

type KvValue = { type: KvType.Uint32 | KvType.Int32 | KvType.Float32 | KvType.Bool | KvType.String; value: number | boolean | string } | { type: KvType.Array; of: KvType.String | KvType.Float32 | KvType.Int32; values: readonly (string | number)[] };

function writeScalar(w: ByteWriter, type: KvType, value: number | boolean | string) {
  if (type === KvType.Uint32) w.u32(value as number);
  else if (type === KvType.Int32) w.i32(value as number);
  else if (type === KvType.Float32) w.f32(value as number);
  else if (type === KvType.Bool) w.raw(Buffer.from([value ? 1 : 0]));
  else w.str(value as string);
}

interface Tensor {
  readonly name: string;
  /** ggml dimensions, innermost first (a linear weight is `[in, out]`). */
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/**
 * Writes the tiny model to `path` (its folder is created) and returns the file's size in
 * bytes. The same options always write the same bytes.
 */
export function writeTinyGguf(path: string, options: TinyGgufOptions = {}): number {
  const embd = options.embedding ?? 64;
  const layers = options.layers ?? 1;
  const heads = options.heads ?? 4;
  const contextLength = options.contextLength ?? 4096;
  if (embd % heads !== 0) throw new Error(`embedding ${embd} is not a multiple of heads ${heads}`);
  const headDim = embd / heads;
  const kvDim = embd; // as many key/value heads as query heads
  const ff = embd * 2;
  const vocab = vocabulary();
  const nVocab = vocab.tokens.length;
  const normal = normalSource(options.seed ?? 1);

  const random = (n: number, std: number) => normal(new Float32Array(n), std);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const linear = (name: string, inDim: number, outDim: number): Tensor => ({ name, dims: [inDim, outDim], data: random(inDim * outDim, 1 / Math.sqrt(inDim)) });

  const tensors: Tensor[] = [{ name: 'token_embd.weight', dims: [embd, nVocab], data: random(embd * nVocab, 1) }];
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [embd], data: ones(embd) },
      linear(`${p}attn_q.weight`, embd, embd),
      linear(`${p}attn_k.weight`, embd, kvDim),
      linear(`${p}attn_v.weight`, embd, kvDim),
      linear(`${p}attn_output.weight`, embd, embd),
      { name: `${p}ffn_norm.weight`, dims: [embd], data: ones(embd) },
      linear(`${p}ffn_gate.weight`, embd, ff),
      linear(`${p}ffn_up.weight`, embd, ff),
      linear(`${p}ffn_down.weight`, ff, embd),
    );
  }
  // Logits with a standard deviation of about 3: greedy decoding is decided, sampling varied.
  const output = random(embd * nVocab, 3 / Math.sqrt(embd));
  for (const t of vocab.silent) output.fill(0, t * embd, (t + 1) * embd);
  tensors.push({ name: 'output_norm.weight', dims: [embd], data: ones(embd) }, { name: 'output.weight', dims: [embd, nVocab], data: output });

  const kvs: [string, KvValue][] = [
    ['general.architecture', { type: KvType.String, value: 'llama' }],
    ['general.name', { type: KvType.String, value: options.name ?? 'symphony-tiny' }],
    ['general.file_type', { type: KvType.Uint32, value: 0 }],
    ['general.alignment', { type: KvType.Uint32, value: GGUF_ALIGNMENT }],
    ['llama.vocab_size', { type: KvType.Uint32, value: nVocab }],
    ['llama.context_length', { type: KvType.Uint32, value: contextLength }],
    ['llama.embedding_length', { type: KvType.Uint32, value: embd }],
    ['llama.block_count', { type: KvType.Uint32, value: layers }],
    ['llama.feed_forward_length', { type: KvType.Uint32, value: ff }],
    ['llama.attention.head_count', { type: KvType.Uint32, value: heads }],
    ['llama.attention.head_count_kv', { type: KvType.Uint32, value: heads }],
    ['llama.rope.dimension_count', { type: KvType.Uint32, value: headDim }],
    ['llama.rope.freq_base', { type: KvType.Float32, value: 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { type: KvType.Float32, value: 1e-5 }],
    ['tokenizer.ggml.model', { type: KvType.String, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: KvType.Array, of: KvType.String, values: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: KvType.Array, of: KvType.Float32, values: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: KvType.Array, of: KvType.Int32, values: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { type: KvType.Uint32, value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: KvType.Uint32, value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: KvType.Uint32, value: 2 }],
    ['tokenizer.ggml.add_bos_token', { type: KvType.Bool, value: true }],
    ['tokenizer.ggml.add_eos_token', { type: KvType.Bool, value: false }],
    // As in BPE models (Llama 3, Qwen): a prompt rendered in pieces counts as many tokens as in one piece.
    ['tokenizer.ggml.add_space_prefix', { type: KvType.Bool, value: false }],
  ];
  const template = options.chatTemplate ?? TINY_CHAT_TEMPLATE;
  if (template !== false) kvs.push(['tokenizer.chat_template', { type: KvType.String, value: template }]);

  const w = new ByteWriter();
  w.raw(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const [key, kv] of kvs) {
    w.str(key);
    w.u32(kv.type);
    if (kv.type === KvType.Array) {
      w.u32(kv.of);
      w.u64(kv.values.length);
      for (const v of kv.values) writeScalar(w, kv.of, v);
    } else writeScalar(w, kv.type, kv.value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    offset += Math.ceil((t.data.length * 4) / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  w.pad(GGUF_ALIGNMENT);
  for (const t of tensors) {
    w.raw(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    w.pad(GGUF_ALIGNMENT);
  }
  const bytes = w.bytes();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return bytes.length;
}
