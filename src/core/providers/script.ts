import type { Instrument } from '../model/instrument';
import { programFailure, runNodeProgram } from '../nodes/shell';
import type { NodeContext } from '../nodes/types';
import { instrumentRequestJson, parseInstrumentAnswer } from './instrumentRequest';
import { countTokens } from './tokens';
import { ModelCallError, type ChatModel } from './types';

/**
 * A script instrument as a model: its program runs once per call — allowed by
 * `permissions.commands` and run exactly as a `shell` node's program is — with the request
 * as JSON on stdin; its stdout is the answer (see instrumentRequest.ts). Its stderr goes to
 * the node's log.
 */
export function scriptModel(ctx: Pick<NodeContext, 'permissions' | 'workspaceRoot' | 'env' | 'programs' | 'log' | 'programStarted'>, instrument: Instrument & { readonly script: NonNullable<Instrument['script']> }): ChatModel {
  const { command, args = [] } = instrument.script;
  return {
    provider: 'script',
    id: command,
    countTokens: (text) => Promise.resolve(countTokens(text)),
    async chat(request, options) {
      const result = await runNodeProgram(
        { ...ctx, signal: options.signal },
        { command, args, stdin: instrumentRequestJson(instrument, request), onOutput: (stream, text) => stream === 'stderr' && ctx.log('stderr', text) },
      );
      if (result.exitCode !== 0) throw new ModelCallError(`script instrument ${instrument.ref}: ${programFailure(command, result)}`, { retryable: true });
      const turn = parseInstrumentAnswer(result.stdout, command);
      if (turn.text) options.onText?.(turn.text);
      return turn;
    },
  };
}
