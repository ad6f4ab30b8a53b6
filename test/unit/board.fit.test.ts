import * as assert from 'node:assert/strict';
import { fitView, type Box, type FitRequest, type View } from '../../webview/src/canvas/fit';

/** Cards the size the board draws them (220 × 76), on a grid of `columns` × `rows`. */
function grid(columns: number, rows: number): Box[] {
  const out: Box[] = [];
  for (let c = 0; c < columns; c++) for (let r = 0; r < rows; r++) out.push({ x: c * 300, y: r * 110, width: 220, height: 76 });
  return out;
}

const MINIMAP = { width: 215, height: 165 };
const CONTROLS = { width: 43, height: 127 };

function request(cards: Box[], overrides: Partial<FitRequest> = {}): FitRequest {
  return {
    cards,
    entries: cards.filter((c) => c.x === 0),
    pane: { width: 1000, height: 700 },
    corners: { left: CONTROLS, right: MINIMAP },
    padding: 24,
    minZoom: 11 / 12,
    maxZoom: 1.2,
    ...overrides,
  };
}

/** A card's box on screen under `view`. */
const onScreen = (b: Box, v: View): Box => ({ x: b.x * v.zoom + v.x, y: b.y * v.zoom + v.y, width: b.width * v.zoom, height: b.height * v.zoom });
const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
/** The panels' boxes on a 1000 × 700 canvas. */
const panels = (corners: FitRequest['corners'], pane: FitRequest['pane']): Box[] => [
  { x: 0, y: pane.height - corners.left.height, width: corners.left.width, height: corners.left.height },
  { x: pane.width - corners.right.width, y: pane.height - corners.right.height, width: corners.right.width, height: corners.right.height },
];

describe('board fit', () => {
  it('shows nothing for an empty melody', () => {
    assert.equal(fitView(request([])), undefined);
  });

  it('fits a small melody whole, not blown up past the largest zoom, clear of the panels', () => {
    assert.equal(fitView(request(grid(2, 2)))!.zoom, 1.2);
    const r = request(grid(3, 2));
    const v = fitView(r)!;
    assert.ok(v.zoom > 11 / 12 && v.zoom <= 1.2, String(v.zoom));
    const screen = r.cards.map((c) => onScreen(c, v));
    for (const card of screen) {
      assert.ok(card.x >= 0 && card.y >= 0 && card.x + card.width <= 1000 && card.y + card.height <= 700, JSON.stringify(card));
      for (const panel of panels(r.corners, r.pane)) assert.ok(!overlaps(card, panel), `${JSON.stringify(card)} under ${JSON.stringify(panel)}`);
    }
  });

  it('never goes below the readable zoom: a big melody starts at its entry nodes, the rest off screen', () => {
    const r = request(grid(25, 20));
    const v = fitView(r)!;
    assert.equal(v.zoom, 11 / 12);
    const screen = r.cards.map((c) => onScreen(c, v));
    // The first column (the entries) starts at the left edge, padded; later columns run off to the right.
    const first = screen.filter((_, i) => r.cards[i]!.x === 0);
    assert.ok(first.every((c) => Math.abs(c.x - 24) < 1), JSON.stringify(first[0]));
    assert.ok(screen.some((c) => c.x > 1000));
    assert.ok(first.some((c) => c.y >= 0 && c.y + c.height <= 700), 'some entry is in view');
  });

  it('keeps a wide melody above the panels when it can overflow only sideways', () => {
    const r = request(grid(12, 3));
    const v = fitView(r)!;
    assert.equal(v.zoom, 11 / 12);
    for (const card of r.cards.map((c) => onScreen(c, v))) for (const panel of panels(r.corners, r.pane)) assert.ok(!overlaps(card, panel), `${JSON.stringify(card)} under ${JSON.stringify(panel)}`);
  });

  it('uses the room the minimap leaves when it is hidden', () => {
    const cards = grid(3, 6);
    const shown = fitView(request(cards))!;
    const hidden = fitView(request(cards, { corners: { left: CONTROLS, right: { width: 0, height: 0 } } }))!;
    assert.ok(hidden.zoom > shown.zoom, `${hidden.zoom} > ${shown.zoom}`);
  });
});
