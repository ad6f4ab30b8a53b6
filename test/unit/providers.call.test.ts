import * as assert from 'node:assert/strict';
import { callModel, openModel } from '../../src/core/providers/call';
import { ModelCallError } from '../../src/core/providers/types';
import { nodeRig, testInstrument } from './nodeContext';

describe('callModel', () => {
  const hi = { messages: [{ role: 'user' as const, text: 'hi' }] };

  it('charges an answer that could not be used (a tool call cut off), and the call still fails', async () => {
    const rig = nodeRig();
    rig.models.reply({ error: new ModelCallError('the tool call was cut off at maxTokens', { retryable: false, usage: { input: 40, output: 2 } }) });
    const instrument = testInstrument();
    await assert.rejects(callModel(rig.ctx, instrument, await openModel(rig.ctx, instrument), hi), /cut off at maxTokens/);
    assert.deepEqual(
      rig.usages.map((u) => [u.instrument, u.model, u.tokens]),
      [['backend/database', 'llama3.1', { input: 40, output: 2 }]],
    );
  });

  it('charges nothing for a call that got no answer', async () => {
    const rig = nodeRig();
    rig.models.reply({ error: new ModelCallError('nothing answers at 127.0.0.1:9', { retryable: false }) });
    const instrument = testInstrument();
    await assert.rejects(callModel(rig.ctx, instrument, await openModel(rig.ctx, instrument), hi), /nothing answers/);
    assert.deepEqual(rig.usages, []);
  });
});
