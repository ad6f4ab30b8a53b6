import * as assert from 'node:assert/strict';
import type { BoardNode } from '../../src/protocol/boardModel';
import { nameRecord } from '../../src/core/model/names';
import { cachedLayout, graphKey, layoutToCache, type Point } from '../../webview/src/canvas/layoutCache';

const node = (id: string, needs: string[] = []): BoardNode => ({
  id,
  uses: 'shell',
  label: id,
  needs,
  compensation: false,
  continueOnError: false,
  data: {},
  source: '',
  line: 0,
  errors: 0,
  warnings: 0,
  rev: '',
});

describe('Harmony Board: the remembered ELK layout', () => {
  const nodes = [node('fetch'), node('build', ['fetch']), node('test', ['build'])];
  const positions = { fetch: [0, 0], build: [300, 0], test: [600, 0] } as const;
  const kept = layoutToCache(graphKey(nodes), positions);

  it('is used for the same graph, even after a trip through the webview state (JSON)', () => {
    const back = JSON.parse(JSON.stringify(kept)) as typeof kept;
    assert.deepEqual({ ...cachedLayout(back, graphKey(nodes)) }, positions);
  });

  it('ignores what does not shape the layout: labels, fields, positions', () => {
    const edited = nodes.map((n) => ({ ...n, label: `${n.id}!`, data: { command: 'echo' }, position: [40, 40] as const }));
    assert.ok(cachedLayout(kept, graphKey(edited)));
  });

  it('is not used when a need changed, a node was added or renamed', () => {
    assert.equal(cachedLayout(kept, graphKey([node('fetch'), node('build', ['fetch']), node('test', ['fetch'])])), undefined, 'a changed edge');
    assert.equal(cachedLayout(kept, graphKey([...nodes, node('ship', ['test'])])), undefined, 'a new node');
    assert.equal(cachedLayout(kept, graphKey([node('get'), node('build', ['get']), node('test', ['build'])])), undefined, 'a renamed node');
    assert.equal(cachedLayout(undefined, graphKey(nodes)), undefined, 'nothing remembered');
  });

  it('keeps a node called like an Object property as a plain node', () => {
    const odd = [node('constructor'), node('__proto__', ['constructor'])];
    const laidOut = cachedLayout(JSON.parse(JSON.stringify(layoutToCache(graphKey(odd), nameRecord<Point>([['constructor', [0, 0]], ['__proto__', [300, 0]]])))) as typeof kept, graphKey(odd));
    assert.deepEqual(laidOut?.['__proto__'], [300, 0]);
    assert.deepEqual(laidOut?.constructor, [0, 0]);
  });
});
