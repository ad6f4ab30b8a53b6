/** How each node kind looks on the canvas: a glyph and an accent colour from the theme. */

const GLYPH: Readonly<Record<string, string>> = {
  shell: '$',
  instrument: '♪',
  transform: 'ƒ',
  template: '¶',
  validate: '✓',
  'read-file': '↧',
  'write-file': '↥',
  'git-commit': '⊙',
  'vscode-command': '⌘',
  melody: '♫',
  approval: '✔',
  summarize: '≡',
  handoff: '⇄',
  notify: '!',
};

/** Categories take the theme's chart colours, so the board matches any colour theme. */
const ACCENT: Readonly<Record<string, string>> = {
  Instruments: 'var(--vscode-charts-purple)',
  Operators: 'var(--vscode-charts-blue)',
  Control: 'var(--vscode-charts-orange)',
  Addons: 'var(--vscode-charts-green)',
};

/** The glyph drawn for a node kind (`?` for a kind Symphony does not know). */
export function glyphOf(kind: string): string {
  return GLYPH[kind] ?? '?';
}

/** The accent colour of a palette category, as a CSS value. */
export function accentOf(category: string | undefined): string {
  return (category && ACCENT[category]) ?? 'var(--vscode-charts-foreground, var(--vscode-foreground))';
}

/** A long expression cut to fit a card or an edge label. */
export function shorten(text: string, max = 38): string {
  const t = text.replace(/^\$\{\{\s*|\s*\}\}$/g, '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
