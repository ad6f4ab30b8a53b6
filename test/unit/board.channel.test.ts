import * as assert from 'node:assert/strict';
import { BoardChannel } from '../../src/extension/board/channel';
import type { HostMessage } from '../../src/protocol/board';
import { boardCatalog } from '../../src/core/board/catalog';

/** A channel whose posts to the webview are recorded, by type. */
function channel(): { channel: BoardChannel; posted: string[] } {
  const posted: string[] = [];
  return { channel: new BoardChannel((m) => (posted.push(m.type), Promise.resolve(true))), posted };
}

const state: HostMessage[] = [
  { type: 'init', catalog: boardCatalog([], []), view: { minimap: true } },
  { type: 'run-state', run: null, events: [], dropped: 0 },
  { type: 'run-events', events: [] },
  { type: 'pins', pins: {} },
];

describe('board channel', () => {
  it('posts none of the board’s state before the board is ready: the answer to ready carries it, once', () => {
    const { channel: c, posted } = channel();
    for (const m of state) c.send(m);
    assert.deepEqual(posted, [], 'nothing reaches a page that is not listening yet');
    c.ready();
    assert.deepEqual(posted, [], 'no stale copy goes ahead of the state the session sends on ready');
    for (const m of state) c.send(m);
    assert.deepEqual(posted, ['init', 'run-state', 'run-events', 'pins']);
  });

  it('keeps an answer to an intent until the board is ready, then posts it', () => {
    const { channel: c, posted } = channel();
    c.send({ type: 'result', id: 7, ok: true, message: 'Added notify' });
    c.send({ type: 'pins', pins: {} });
    assert.deepEqual(posted, []);
    c.ready();
    assert.deepEqual(posted, ['result']);
    assert.equal(c.readyNow, true);
  });

  it('shows every message sent to whoever watches, posted or not', () => {
    const { channel: c } = channel();
    const seen: string[] = [];
    const watching = c.watch((m) => seen.push(m.type));
    c.send(state[0]!);
    c.ready();
    c.send(state[1]!);
    watching.dispose();
    c.send(state[3]!);
    assert.deepEqual(seen, ['init', 'run-state']);
  });
});
