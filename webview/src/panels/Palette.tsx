/**
 * The palette: everything that can be added, in the four categories of issue 5, with a
 * search box. It follows the ARIA combobox pattern — type to filter, arrow keys to move,
 * Enter to add — and every entry can also be clicked or dragged onto the canvas.
 */
import { useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { BoardCatalog, PaletteCategory, PaletteEntry } from '../../../src/protocol/boardModel';
import { perform } from '../actions';
import { PALETTE_MIME } from '../canvas/Canvas';
import { accentOf, glyphOf } from '../canvas/kinds';
import type { Point } from '../canvas/layout';

const CATEGORIES: readonly PaletteCategory[] = ['Instruments', 'Operators', 'Control', 'Addons'];

/** Entries matching every word of the query, in palette order. */
export function searchPalette(entries: readonly PaletteEntry[], query: string): PaletteEntry[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...entries];
  return entries.filter((e) => {
    const hay = [e.label, e.detail, e.category, e.kind, ...e.keywords].join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

interface PaletteProps {
  readonly catalog: BoardCatalog;
  /** Where a node added without a drop goes (beside `after`, or in the middle of the view). */
  readonly place: (after?: string) => Point;
  /** The selected node: Shift+Enter adds the new one after it, connected. */
  readonly selected?: string;
  readonly searchRef: { current: HTMLInputElement | null };
}

/** The palette panel; see the file comment for how it is operated. */
export function Palette({ catalog, place, selected, searchRef }: PaletteProps) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const listRef = useRef<HTMLDivElement>(null);
  const found = useMemo(() => searchPalette(catalog.palette, query), [catalog.palette, query]);
  const ordered = useMemo(() => CATEGORIES.flatMap((c) => found.filter((e) => e.category === c)), [found]);
  const current = ordered[Math.min(active, ordered.length - 1)];
  const optionId = (e: PaletteEntry) => `palette-${e.key.replace(/[^\w-]/g, '_')}`;

  const add = (entry: PaletteEntry, connected: boolean) => {
    const after = connected ? selected : undefined;
    void perform({ kind: 'add-node', paletteKey: entry.key, position: [...place(after)], after });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const move = (to: number) => {
      e.preventDefault();
      const next = Math.max(0, Math.min(ordered.length - 1, to));
      setActive(next);
      document.getElementById(optionId(ordered[next]!))?.scrollIntoView({ block: 'nearest' });
    };
    if (e.key === 'ArrowDown') move(active + 1);
    else if (e.key === 'ArrowUp') move(active - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(ordered.length - 1);
    else if (e.key === 'Enter' && current) {
      e.preventDefault();
      add(current, e.shiftKey);
    } else if (e.key === 'Escape') {
      setQuery('');
      setActive(0);
    }
  };

  const onDragStart = (e: DragEvent, entry: PaletteEntry) => {
    e.dataTransfer.setData(PALETTE_MIME, entry.key);
    e.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <section className="palette" aria-label="Palette">
      <input
        ref={searchRef}
        className="palette-search"
        type="search"
        role="combobox"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-autocomplete="list"
        aria-activedescendant={current ? optionId(current) : undefined}
        aria-label="Add a node: type to search, arrows to choose, Enter to add, Shift+Enter to add after the selected node"
        placeholder="Search nodes…  ( / )"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <div id="palette-list" role="listbox" aria-label="Nodes to add" className="palette-list" ref={listRef}>
        {CATEGORIES.map((category) => {
          const entries = ordered.filter((e) => e.category === category);
          const emptyInstruments = category === 'Instruments' && catalog.instruments.length === 0 && query === '';
          if (entries.length === 0 && !emptyInstruments) return null;
          return (
            <div role="group" aria-labelledby={`palette-cat-${category}`} key={category} className="palette-group">
              <div id={`palette-cat-${category}`} className="palette-category" role="presentation">
                {category}
              </div>
              {emptyInstruments && <div className="palette-empty">No instruments yet: add one under ensembles/&lt;ensemble&gt;/.</div>}
              {entries.map((entry) => (
                <div
                  key={entry.key}
                  id={optionId(entry)}
                  role="option"
                  aria-selected={entry === current}
                  className={`palette-item${entry === current ? ' active' : ''}`}
                  style={{ ['--accent' as string]: accentOf(entry.category) }}
                  draggable
                  onDragStart={(e) => onDragStart(e, entry)}
                  onClick={(e) => add(entry, e.shiftKey)}
                  title={`${entry.label}: ${entry.detail}\nClick or drag onto the canvas to add; Shift+click adds it after the selected node.`}
                  data-palette-key={entry.key}
                >
                  <span className="palette-glyph" aria-hidden="true">
                    {glyphOf(entry.kind)}
                  </span>
                  <span className="palette-text">
                    <span className="palette-label">{entry.label}</span>
                    <span className="palette-detail">{entry.detail}</span>
                  </span>
                </div>
              ))}
            </div>
          );
        })}
        {ordered.length === 0 && query !== '' && <div className="palette-empty">Nothing matches “{query}”.</div>}
      </div>
    </section>
  );
}
