/**
 * Edits as offsets into a text, the currency between the board's YAML operations (pure)
 * and the extension (which turns each into a range of a `vscode.WorkspaceEdit`). Small,
 * local edits rather than a whole new text keep the user's cursor, folding and
 * selections in the text editor where they were.
 */

/** Replace `[start, end)` of the original text with `text` (an insertion when start == end). */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Sorts edits and merges those that touch or overlap into one, so they can be applied
 * together against the original text (as a WorkspaceEdit requires). An insertion at the
 * start of a replacement goes before it; overlapping edits are a bug in the caller.
 */
export function normalizeEdits(edits: readonly TextEdit[]): TextEdit[] {
  const sorted = edits
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.start - b.e.start || a.e.end - a.e.start - (b.e.end - b.e.start) || a.i - b.i)
    .map(({ e }) => e);
  const out: TextEdit[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && e.start < last.end) throw new Error(`overlapping edits at ${e.start}`);
    if (last && e.start === last.end) {
      out[out.length - 1] = { start: last.start, end: e.end, text: last.text + e.text };
      continue;
    }
    out.push(e);
  }
  return out.filter((e) => e.start !== e.end || e.text !== '');
}

/** The text after applying edits made against it. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = '';
  let at = 0;
  for (const e of normalizeEdits(edits)) {
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + text.slice(at);
}
