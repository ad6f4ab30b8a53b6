import { stat } from 'node:fs/promises';
import type { Instrument, ModelSpec } from '../model/instrument';
import type { Melody } from '../model/melody';
import { KINDS_WITH_INSTRUMENT } from '../model/nodeKinds';
import { apiKeyName, resolveModelPath } from './names';

/**
 * Whether an instrument's model is set up here, told without calling anything: the key it
 * reads is set, the GGUF file is there, VS Code has a language model for it. A server on
 * this machine (Ollama) counts as set up: only a call says whether it answers, and that is
 * `check.ts`'s business. This is what `symphony validate`, the Melodies view and the
 * triggers go by, so it must stay cheap.
 */
export interface SetupProbe {
  /** Whether an API key of this name is set (the environment; VS Code's secret storage too). */
  readonly hasApiKey: (name: string) => Promise<boolean>;
  /** Where to say how a key is set, in the surface's words. */
  readonly howToSetKey: (name: string) => string;
  /** VS Code's language models: why none serves the spec, or undefined. Absent outside VS Code. */
  readonly vscodeLm?: (spec: ModelSpec) => Promise<string | undefined>;
  readonly workspaceRoot: string;
}

/** Why an instrument's model is not set up here, or undefined when it is (or it is no model). */
export async function modelSetupProblem(instrument: Instrument, probe: SetupProbe): Promise<string | undefined> {
  const spec = instrument.model;
  if (instrument.kind !== 'model' || !spec) return undefined;
  if (spec.provider === 'vscode-lm') {
    return probe.vscodeLm ? probe.vscodeLm(spec) : "VS Code's language models (vscode-lm) exist only inside VS Code";
  }
  const key = apiKeyName(spec);
  if (key && !(await probe.hasApiKey(key))) return `its API key ${key} is not set — ${probe.howToSetKey(key)}`;
  if (spec.provider === 'local' && spec.path) {
    const file = resolveModelPath(spec.path, probe.workspaceRoot);
    const found = await stat(file).then((s) => s.isFile(), () => false);
    if (!found) return `its GGUF file ${spec.path} is not there — put a small instruct model at that path`;
  }
  return undefined;
}

/** The set-up problem of every model instrument that has one, by `ensemble/instrument`. */
export async function modelSetupProblems(instruments: readonly Instrument[], probe: SetupProbe): Promise<ReadonlyMap<string, string>> {
  const problems = new Map<string, string>();
  await Promise.all(
    instruments.map(async (i) => {
      const problem = await modelSetupProblem(i, probe).catch((e: unknown) => `it could not be checked: ${(e as Error).message}`);
      if (problem) problems.set(i.ref, problem);
    }),
  );
  return problems;
}

/** A node whose instrument and every fallback are models that are not set up. */
export interface UnservedNode {
  readonly nodeId: string;
  /** `ensemble/instrument` and why, for the instrument and each fallback. */
  readonly candidates: readonly { readonly ref: string; readonly problem: string }[];
}

/**
 * The nodes of a melody that cannot reach any model: their instrument and all of its
 * `fallback:` instruments have a set-up problem. A node with a script or service among
 * them, or one model that is set up, is served. Unknown instruments are the loader's
 * errors, not this.
 */
export function unservedNodes(melody: Melody, problems: ReadonlyMap<string, string>): UnservedNode[] {
  const out: UnservedNode[] = [];
  for (const [nodeId, node] of Object.entries(melody.nodes)) {
    if (!node.instrument || !KINDS_WITH_INSTRUMENT.includes(node.uses)) continue;
    const refs = [node.instrument, ...(node.fallback ?? [])];
    const candidates = refs.map((ref) => ({ ref, problem: problems.get(ref) }));
    if (candidates.every((c) => c.problem !== undefined)) out.push({ nodeId, candidates: candidates as UnservedNode['candidates'] });
  }
  return out;
}

/** An unserved node in words: "review: backend/reviewer — …; research/analyst — …". */
export function describeUnserved(node: UnservedNode): string {
  return `${node.nodeId} (${node.candidates.map((c) => `${c.ref}: ${c.problem}`).join('; ')})`;
}
