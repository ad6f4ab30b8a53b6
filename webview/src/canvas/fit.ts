/**
 * Where the board looks when it opens or is fitted: the whole melody if it can be shown
 * with readable cards, else the melody's entry nodes at the smallest readable zoom (the
 * user pans to the rest). The canvas's own panels — the zoom controls and the minimap —
 * sit in its bottom corners; the view keeps the cards out from under them when it can.
 * Pure: no DOM, no React Flow, so it is unit-tested on its own.
 */

/** A rectangle on the canvas (canvas units) or on the screen (pixels). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** React Flow's viewport: screen = canvas × zoom + (x, y). */
export interface View {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

/** What a fit needs to know. */
export interface FitRequest {
  /** Every card. */
  readonly cards: readonly Box[];
  /** The cards the melody starts from (nothing they need): shown first when not all fit. */
  readonly entries: readonly Box[];
  /** The canvas's size on screen. */
  readonly pane: { readonly width: number; readonly height: number };
  /** Panels along the bottom edge: their widths from the left and right edges, their heights from the bottom. */
  readonly corners: { readonly left: Corner; readonly right: Corner };
  /** Space kept between the cards and the canvas's edges (or a panel), in pixels. */
  readonly padding: number;
  /** Never smaller than this: below it the cards' text is too small to read. */
  readonly minZoom: number;
  /** Never larger than this: a three-node melody is not blown up to fill the screen. */
  readonly maxZoom: number;
}

/** The space a bottom-corner panel takes from the canvas (0 × 0 when there is none). */
export interface Corner {
  readonly width: number;
  readonly height: number;
}

/** The smallest box holding all of `boxes`. */
export function boundsOf(boxes: readonly Box[]): Box | undefined {
  if (boxes.length === 0) return undefined;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const b of boxes) {
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.width);
    y1 = Math.max(y1, b.y + b.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Places `span` (canvas units, at `zoom`) along one axis of an area `[start, start + size)`
 * of the screen: centred when it fits; otherwise `focus` (the entry nodes) comes first,
 * as near the start as the span allows without leaving empty space before it or after it.
 */
function place(start: number, size: number, padding: number, zoom: number, span: { from: number; to: number }, focus: { from: number; to: number }): number {
  const length = (span.to - span.from) * zoom;
  if (length <= size - 2 * padding) return start + (size - length) / 2 - span.from * zoom;
  const wanted = start + padding - focus.from * zoom;
  const first = start + padding - span.from * zoom; // the span's start at the area's start
  const last = start + size - padding - span.to * zoom; // the span's end at the area's end
  return Math.min(first, Math.max(last, wanted));
}

/**
 * The view that shows the melody best. Two areas of the canvas are free of panels: the
 * band above the bottom panels, and the column between them. The melody goes into the one
 * where it is shown largest, as a whole if it fits at a readable zoom; a melody too big
 * for that is shown at `minZoom` from its entry nodes, in the area where it overflows only
 * away from the panels (a wide melody in the band above them, a tall one in the column
 * between them) — and across the whole canvas only when it is too big both ways.
 */
export function fitView(request: FitRequest): View | undefined {
  const bounds = boundsOf(request.cards);
  if (!bounds) return undefined;
  const { pane, corners, padding, minZoom, maxZoom } = request;
  const focusBox = boundsOf(request.entries) ?? bounds;
  const bottom = Math.max(corners.left.height, corners.right.height);
  // The band may overflow sideways and the column downwards without reaching a panel.
  const band = { x: 0, y: 0, width: pane.width, height: pane.height - bottom, overflows: 'x' as const };
  const column = { x: corners.left.width, y: 0, width: pane.width - corners.left.width - corners.right.width, height: pane.height, overflows: 'y' as const };
  const areas = [band, column].filter((a) => a.width > 2 * padding && a.height > 2 * padding);

  const zoomIn = (a: Box) => Math.min((a.width - 2 * padding) / Math.max(bounds.width, 1), (a.height - 2 * padding) / Math.max(bounds.height, 1));
  const fits = (a: Box, zoom: number) => ({
    x: bounds.width * zoom <= a.width - 2 * padding + 0.5,
    y: bounds.height * zoom <= a.height - 2 * padding + 0.5,
  });
  const whole = areas.filter((a) => zoomIn(a) >= minZoom).sort((a, b) => zoomIn(b) - zoomIn(a))[0];
  const everything: Box = { x: 0, y: 0, width: pane.width, height: pane.height };
  let area: Box;
  let zoom: number;
  if (whole) {
    area = whole;
    zoom = Math.min(zoomIn(whole), maxZoom);
  } else {
    zoom = minZoom;
    // Overflowing only sideways in the top band, or only downwards in the middle column,
    // keeps every card clear of the panels; else the whole canvas, starting at the entries.
    area = areas.find((a) => (a.overflows === 'x' ? fits(a, zoom).y : fits(a, zoom).x)) ?? everything;
  }
  const x = place(area.x, area.width, padding, zoom, { from: bounds.x, to: bounds.x + bounds.width }, { from: focusBox.x, to: focusBox.x + focusBox.width });
  // Vertically, the entries are centred in the area when the melody is taller than it.
  const middle = focusBox.y + focusBox.height / 2;
  const halfArea = (area.height - 2 * padding) / zoom / 2;
  const y = place(area.y, area.height, padding, zoom, { from: bounds.y, to: bounds.y + bounds.height }, { from: middle - halfArea, to: middle + halfArea });
  return { x, y, zoom };
}
