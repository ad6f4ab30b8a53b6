import * as assert from 'node:assert/strict';
import { APICallError } from 'ai';
import { isContextOverflow, parseRetryAfter, summaryOf, toModelCallError, withRetries, type Endpoint } from '../../src/core/providers/errors';
import { ModelCallError } from '../../src/core/providers/types';
import { rejection } from './nodeContext';

const endpoint: Endpoint = {
  provider: 'openai-compatible',
  baseUrl: 'https://api.openai.com/v1',
  modelId: 'gpt-4o-mini',
  keyName: 'OPENAI_API_KEY',
  apiKey: 'sk-live-abcdef123456',
  answerKind: 'an OpenAI chat completion',
};

function apiError(statusCode: number, body: unknown, headers: Record<string, string> = {}): APICallError {
  return new APICallError({
    message: 'x',
    url: 'https://api.openai.com/v1/chat/completions',
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
    responseBody: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('provider errors', () => {
  describe('parseRetryAfter', () => {
    it('reads seconds, milliseconds and HTTP dates', () => {
      const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
      assert.equal(parseRetryAfter({ 'retry-after': '3' }), 3000);
      assert.equal(parseRetryAfter({ 'retry-after': '0.5' }), 500);
      assert.equal(parseRetryAfter({ 'Retry-After': '2' }), 2000);
      assert.equal(parseRetryAfter({ 'retry-after-ms': '1234.5', 'retry-after': '9' }), 1235, 'retry-after-ms wins');
      assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:28:07 GMT' }, now), 7000);
      assert.equal(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }, now), 0, 'a date in the past means now');
      assert.equal(parseRetryAfter({ 'retry-after': 'soon' }), undefined);
      assert.equal(parseRetryAfter({}), undefined);
      assert.equal(parseRetryAfter(undefined), undefined);
    });
  });

  describe('toModelCallError', () => {
    it('tells an exhausted quota (permanent) from a rate limit (retryable)', () => {
      const quota = toModelCallError(apiError(429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } }), endpoint);
      assert.equal(quota.retryable, false);
      assert.match(quota.message, /^the account behind the API key in OPENAI_API_KEY has no quota left \(429 from api\.openai\.com\)/);
      const limited = toModelCallError(apiError(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '250' }), endpoint);
      assert.equal(limited.retryable, true);
      assert.equal(limited.retryAfterMs, 250);
      assert.equal(summaryOf(limited), '429 from api.openai.com: rate limited');
    });

    it('classifies statuses: 408, 409 and 5xx retryable; 400, 403, 413, 422 permanent', () => {
      const retryable = (status: number) => toModelCallError(apiError(status, { error: { message: 'm' } }), endpoint).retryable;
      assert.deepEqual([408, 409, 500, 502, 503, 504, 529].map(retryable), [true, true, true, true, true, true, true]);
      assert.deepEqual([400, 401, 403, 404, 413, 422].map(retryable), [false, false, false, false, false, false]);
    });

    it('recognizes context overflow in the words of OpenAI, Anthropic, vLLM and llama.cpp', () => {
      for (const words of [
        "This model's maximum context length is 8192 tokens.",
        'prompt is too long: 208310 tokens > 200000 maximum',
        'the request exceeds the available context size, try increasing it',
      ]) {
        assert.ok(isContextOverflow(words), words);
      }
      assert.ok(!isContextOverflow('Rate limit reached for tokens per min'));
      const vllm = toModelCallError(apiError(400, { object: 'error', message: "This model's maximum context length is 4096 tokens.", type: 'BadRequestError' }), endpoint);
      assert.match(vllm.message, /^the prompt is longer than the model's context window \(gpt-4o-mini at api\.openai\.com, 400\): This model's maximum/);
    });

    it('quotes a 404 without JSON as a wrong baseUrl, not a wrong model', () => {
      const e = toModelCallError(apiError(404, '404 page not found'), endpoint);
      assert.match(e.message, /^nothing at https:\/\/api\.openai\.com\/v1 answers model calls \(404: 404 page not found\); check baseUrl/);
    });

    it('maps an error the stream carried as data (a mid-stream overload) by its type', () => {
      const overloaded = toModelCallError({ type: 'overloaded_error', message: 'Overloaded' }, endpoint);
      assert.equal(overloaded.retryable, true);
      assert.equal(overloaded.message, 'api.openai.com reported an error mid-answer (overloaded_error): Overloaded');
      assert.equal(toModelCallError({ type: 'invalid_request_error', message: 'bad' }, endpoint).retryable, false);
    });

    it('scrubs the key from anything it quotes, and names it only by its variable', () => {
      const e = toModelCallError(new Error(`boom with ${endpoint.apiKey}`), endpoint);
      assert.equal(e.message, 'the call to gpt-4o-mini at api.openai.com failed: boom with [API key]');
    });
  });

  describe('withRetries', () => {
    const retryable = () => new ModelCallError('flaky', { retryable: true });

    it('retries up to maxRetries, then throws the last error', async () => {
      let calls = 0;
      const e = await rejection(withRetries(() => (calls++, Promise.reject(retryable())), { signal: new AbortController().signal, maxRetries: 3, sleep: () => Promise.resolve() }));
      assert.ok(e instanceof ModelCallError);
      assert.equal(calls, 4);
    });

    it('never retries a permanent error, or anything that is not a ModelCallError', async () => {
      for (const error of [new ModelCallError('no', { retryable: false }), new TypeError('bug')]) {
        let calls = 0;
        assert.equal(await rejection(withRetries(() => (calls++, Promise.reject(error)), { signal: new AbortController().signal, sleep: () => Promise.resolve() })), error);
        assert.equal(calls, 1);
      }
    });

    it('backs off exponentially with jitter from one second', async () => {
      const delays: number[] = [];
      const randoms = [0, 0.75];
      await rejection(
        withRetries(() => Promise.reject(retryable()), { signal: new AbortController().signal, random: () => randoms.shift() ?? 0.5, sleep: (ms) => (delays.push(ms), Promise.resolve()) }),
      );
      assert.deepEqual(delays, [800, 2200]);
    });

    it('does not retry when canRetry says no', async () => {
      let calls = 0;
      await rejection(withRetries(() => (calls++, Promise.reject(retryable())), { signal: new AbortController().signal, canRetry: () => false, sleep: () => Promise.resolve() }));
      assert.equal(calls, 1);
    });

    it('stops waiting when the signal aborts, with its reason', async () => {
      const controller = new AbortController();
      const reason = new Error('stop');
      let calls = 0;
      const waiting = withRetries(() => (calls++, Promise.reject(new ModelCallError('later', { retryable: true, retryAfterMs: 30_000 }))), {
        signal: controller.signal,
        // The note comes just before the wait: abort then, and the real timer must give up.
        onNote: () => controller.abort(reason),
      });
      assert.equal(await rejection(waiting), reason);
      assert.equal(calls, 1);
    });
  });
});
