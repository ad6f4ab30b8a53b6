import { modelLabel, type Instrument } from '../model/instrument';
import { resolveProgram } from '../programs/resolve';
import type { ModelCheck, ModelProvider } from './types';

/** Longest a reachability check may take before it counts as "no answer". */
export const CHECK_TIMEOUT_MS = 10_000;

/** One row of `symphony models` and *Symphony: Check Models*. */
export interface InstrumentCheck extends ModelCheck {
  /** `ensemble/instrument`. */
  readonly instrument: string;
  readonly nickname: string;
  readonly kind: Instrument['kind'];
  /** `openai-compatible`, `anthropic`, `local`, `vscode-lm`, `script` or `service`. */
  readonly provider: string;
  /** The model (id, family or file), the program, or the URL. */
  readonly model: string;
}

/**
 * Whether each instrument can be reached now, and why not — all at once, each within
 * CHECK_TIMEOUT_MS: a model-list request or a load for models, the program on PATH for
 * scripts, any HTTP answer for services. Never throws.
 */
export async function checkInstruments(models: ModelProvider, instruments: readonly Instrument[], options: { workspaceRoot: string; env: Readonly<Record<string, string | undefined>>; signal?: AbortSignal }): Promise<InstrumentCheck[]> {
  return Promise.all(
    instruments.map(async (instrument): Promise<InstrumentCheck> => {
      const signal = AbortSignal.any([AbortSignal.timeout(CHECK_TIMEOUT_MS), ...(options.signal ? [options.signal] : [])]);
      const base = { instrument: instrument.ref, nickname: instrument.nickname, kind: instrument.kind };
      try {
        if (instrument.kind === 'script' && instrument.script) {
          const found = await resolveProgram(instrument.script.command, options.workspaceRoot, { path: options.env.PATH, pathext: options.env.PATHEXT, platform: process.platform });
          return { ...base, provider: 'script', model: instrument.script.command, reachable: found !== undefined, detail: found ? `runs ${found}` : `program ${instrument.script.command} was not found on PATH` };
        }
        if (instrument.kind === 'service' && instrument.service) {
          const res = await fetch(instrument.service.url, { method: 'HEAD', signal }).then((r) => `${r.status} ${r.statusText}`, (e: Error & { cause?: { code?: string } }) => {
            throw new Error(signal.aborted ? `no answer from ${instrument.service!.url} within ${CHECK_TIMEOUT_MS / 1000} s` : `nothing answers at ${instrument.service!.url}${e.cause?.code ? ` (${e.cause.code})` : ''}`);
          });
          return { ...base, provider: 'service', model: instrument.service.url, reachable: true, detail: `answers (${res})` };
        }
        const spec = instrument.model;
        const check = await models.check(instrument, { signal, workspaceRoot: options.workspaceRoot, addSecret: () => undefined });
        return { ...base, provider: spec?.provider ?? instrument.kind, model: spec ? modelLabel(spec) : '', ...check };
      } catch (e) {
        return { ...base, provider: instrument.model?.provider ?? instrument.kind, model: instrument.model ? modelLabel(instrument.model) : '', reachable: false, detail: (e as Error).message };
      }
    }),
  );
}
