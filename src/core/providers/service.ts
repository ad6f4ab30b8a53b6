import type { Instrument } from '../model/instrument';
import type { NodeContext } from '../nodes/types';
import { instrumentRequestJson, parseInstrumentAnswer } from './instrumentRequest';
import { countTokens } from './tokens';
import { ModelCallError, type ChatModel } from './types';

/** Characters of an error body quoted in a message. */
const QUOTE = 300;

/**
 * A service instrument as a model: each call sends the request as JSON to its URL — a host
 * the melody allows in `permissions.network` — and takes the answer from the body (JSON
 * answer object or text; see instrumentRequest.ts). 429 and 5xx are retryable, other
 * failures are not.
 */
export function serviceModel(ctx: Pick<NodeContext, 'permissions'>, instrument: Instrument & { readonly service: NonNullable<Instrument['service']> }): ChatModel {
  const { url, method } = instrument.service;
  return {
    provider: 'service',
    id: url,
    countTokens: (text) => Promise.resolve(countTokens(text)),
    async chat(request, options) {
      ctx.permissions.checkNetwork(url);
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: { 'content-type': 'application/json', accept: 'application/json, text/plain' },
          body: method === 'GET' ? undefined : instrumentRequestJson(instrument, request),
          signal: options.signal,
        });
      } catch (e) {
        options.signal.throwIfAborted();
        const cause = (e as { cause?: { code?: string } }).cause;
        throw new ModelCallError(`service instrument ${instrument.ref}: nothing answers at ${url}${cause?.code ? ` (${cause.code})` : ''}`, { retryable: true, cause: e });
      }
      const body = await response.text();
      if (!response.ok) {
        const retryable = response.status === 429 || response.status >= 500;
        const seconds = Number(response.headers.get('retry-after'));
        throw new ModelCallError(`service instrument ${instrument.ref}: ${url} answered ${response.status} ${response.statusText}${body ? `: ${body.slice(0, QUOTE)}` : ''}`, {
          retryable,
          status: response.status,
          retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined,
        });
      }
      const turn = parseInstrumentAnswer(body, url);
      if (turn.text) options.onText?.(turn.text);
      return turn;
    },
  };
}
