import * as assert from 'node:assert/strict';
import { instrumentNode, parseModelJson } from '../../src/core/nodes/instrument';
import { summarizeNode } from '../../src/core/nodes/summarize';
import { NodeError } from '../../src/core/nodes/types';
import { ProviderUnavailableError } from '../../src/core/providers/types';
import { nodeRig, rejection, testInstrument } from './nodeContext';

describe('instrument node', () => {
  it('sends the role and system prompt, streams the answer into the log, charges its usage and outputs the text', async () => {
    const rig = nodeRig({ instrument: testInstrument({ role: 'Handles schema and queries.', model: { provider: 'openai-compatible', id: 'gpt-4o-mini' } }) });
    rig.models.reply({ chunks: ['The schema ', 'looks ', 'fine.'], tokens: { input: 120_000, output: 8000 } });

    const result = await instrumentNode.run({ prompt: 'Review db/schema.sql', system: 'Answer briefly.', maxTokens: 200, temperature: 0.2 }, rig.ctx);

    assert.deepEqual(result, { output: 'The schema looks fine.' });
    // gpt-4o-mini: $0.15 per million in, $0.60 out.
    assert.deepEqual(rig.usages, [{ tokens: { input: 120_000, output: 8000 }, costUsd: 0.0228, model: 'gpt-4o-mini', instrument: 'backend/database', priced: true }]);
    assert.deepEqual(
      rig.logs.filter((l) => l.stream === 'stdout').map((l) => l.text),
      ['The schema ', 'looks ', 'fine.'],
    );
    const [call] = rig.models.requests;
    assert.equal(call!.instrument.ref, 'backend/database');
    assert.deepEqual(call!.request, {
      system: 'Handles schema and queries.\n\nAnswer briefly.',
      messages: [{ role: 'user', text: 'Review db/schema.sql' }],
      maxTokens: 200,
      temperature: 0.2,
      json: undefined,
    });
  });

  it('parses JSON answers, fenced or not', async () => {
    const rig = nodeRig({ instrument: testInstrument({ role: undefined }) });
    rig.models.reply('Here you go:\n```json\n{ "verdict": "ok", "issues": [] }\n```\nAnything else?').reply('  {"verdict": "fix"}\n');
    assert.deepEqual((await instrumentNode.run({ prompt: 'Verdict?', json: true }, rig.ctx)).output, { verdict: 'ok', issues: [] });
    assert.deepEqual((await instrumentNode.run({ prompt: 'Verdict?', json: true }, rig.ctx)).output, { verdict: 'fix' });
    assert.deepEqual(rig.models.requests[0]!.request.json, {});
    assert.equal(rig.models.requests[0]!.request.system, undefined);
  });

  it('fails retryably when the model does not return valid JSON', async () => {
    const rig = nodeRig({ instrument: testInstrument() });
    rig.models.reply('Sure! The verdict is ok.');
    const e = await rejection(instrumentNode.run({ prompt: 'Verdict?', json: true }, rig.ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, true);
    assert.match(e.message, /^the model did not return valid JSON: .*; it answered: "Sure! The verdict is ok\."$/);
    assert.throws(() => parseModelJson('```json\n{ "a": \n```'), /did not return valid JSON/);
  });

  it('needs an instrument', async () => {
    const e = await rejection(instrumentNode.run({ prompt: 'x' }, nodeRig().ctx));
    assert.ok(e instanceof NodeError);
    assert.equal(e.retryable, false);
  });

  it('lets ProviderUnavailableError through unchanged, so the engine can fall back', async () => {
    const rig = nodeRig({ instrument: testInstrument() });
    const unavailable = new ProviderUnavailableError('no provider for backend/database');
    rig.models.reply({ error: unavailable });
    assert.equal(await rejection(instrumentNode.run({ prompt: 'x' }, rig.ctx)), unavailable);
  });
});

describe('summarize node', () => {
  const text =
    'The billing service retries failed charges three times. Each retry waits longer than the last. ' +
    'Customers get an email when the final retry fails. The weather was nice on the day it shipped. ' +
    'Failed charges after the final retry are sent to the billing team.';

  it('summarizes extractively without an instrument', async () => {
    const rig = nodeRig();
    const { output } = await summarizeNode.run({ text, maxSentences: 2 }, rig.ctx);
    assert.deepEqual(rig.usages, []);
    assert.equal(
      output,
      'The billing service retries failed charges three times. Failed charges after the final retry are sent to the billing team.',
    );
    assert.equal(rig.models.requests.length, 0);
  });

  it('asks the instrument’s model when there is one', async () => {
    const rig = nodeRig({ instrument: testInstrument() });
    rig.models.reply({ text: '  Billing retries failed charges and escalates.\n', tokens: { input: 90, output: 9 } });
    const result = await summarizeNode.run({ text, maxSentences: 1 }, rig.ctx);
    assert.deepEqual(result, { output: 'Billing retries failed charges and escalates.' });
    assert.deepEqual(rig.usages.map((u) => u.tokens), [{ input: 90, output: 9 }]);
    assert.deepEqual(rig.models.requests[0]!.request, { system: 'You summarize text faithfully.', messages: [{ role: 'user', text: `Summarize in at most 1 sentence:\n\n${text}` }] });
  });
});
