/**
 * The data the Harmony Board shows: a melody as the extension reads it from the YAML
 * document, and the catalog of what can be added and edited. Plain JSON — it crosses the
 * webview boundary in messages (see `board.ts`) — and free of `vscode` and the DOM, so
 * the core builds it, the extension sends it and the webview renders it.
 */

/** A path into the melody's YAML: map keys and sequence indexes. */
export type FieldPath = readonly (string | number)[];

/** A problem of the melody, positioned for the Problems panel and for the board's fields. */
export interface BoardDiagnostic {
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly code: string;
  /** 1-based, as the Problems panel and `symphony validate` print them. */
  readonly line: number;
  readonly column: number;
  /** The YAML path the problem points at, e.g. `['nodes', 'review', 'with', 'prompt']`. */
  readonly path: FieldPath;
}

/** One node of the melody as the board draws and inspects it. */
export interface BoardNode {
  readonly id: string;
  /** `uses:` as written (possibly an unknown kind, which the diagnostics explain). */
  readonly uses: string;
  /** `name:` when set, else the id. */
  readonly label: string;
  readonly description?: string;
  readonly instrument?: string;
  readonly needs: readonly string[];
  /** `if:` as written; edges into this node are conditional and show it. */
  readonly condition?: string;
  /** `loop:` in words, e.g. "until … (max 3)". */
  readonly loop?: string;
  /** The node named by `on-failure.compensate`: outside the normal graph. */
  readonly compensation: boolean;
  readonly continueOnError: boolean;
  /** `board.positions.<id>`, when the board has placed it. */
  readonly position?: readonly [number, number];
  /** The node's YAML as data, for the inspector's form. */
  readonly data: Readonly<Record<string, unknown>>;
  /** The node's YAML text as written (comments included), dedented. */
  readonly source: string;
  /** 1-based line of the node's key in the file. */
  readonly line: number;
  readonly errors: number;
  readonly warnings: number;
  /** Changes whenever anything shown about the node changes; lets the webview reuse renders. */
  readonly rev: string;
}

/** A melody that could be read, however many problems it has. */
export interface BoardMelody {
  readonly name?: string;
  readonly description?: string;
  /** Top-level settings as data: triggers, inputs, budget, permissions, concurrency, on-failure. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** In file order. */
  readonly nodes: readonly BoardNode[];
  /** `board.viewport`: `[x, y, zoom]`. */
  readonly viewport?: readonly [number, number, number];
}

/** What the board shows for one version of the document. */
export interface BoardDocument {
  /** The file name, for titles and messages. */
  readonly fileName: string;
  /** The TextDocument version this was built from. */
  readonly version: number;
  /** Undefined when the YAML cannot be read: the board shows the diagnostics instead. */
  readonly melody?: BoardMelody;
  readonly diagnostics: readonly BoardDiagnostic[];
}

/**
 * Whether the board lays the melody out itself (ELK): it has nodes and none has a
 * position under `board:`. The host asks too, to have the page fetch the layout engine
 * while the board's own script loads.
 */
export function needsLayout(nodes: readonly Pick<BoardNode, 'position'>[]): boolean {
  return nodes.length > 0 && nodes.every((n) => !n.position);
}

/** The palette's sections, as issue 5 names them. */
export type PaletteCategory = 'Instruments' | 'Operators' | 'Control' | 'Addons';

/** Something the palette can add. The extension owns what its node looks like. */
export interface PaletteEntry {
  /** Sent back in `add-node`; e.g. `kind:shell` or `instrument:backend/reviewer`. */
  readonly key: string;
  readonly category: PaletteCategory;
  readonly label: string;
  /** One line under the label: what it does, or the instrument's role. */
  readonly detail: string;
  /** Extra words the search matches (the kind, the ensemble, the nickname). */
  readonly keywords: readonly string[];
  /** The node kind it creates. */
  readonly kind: string;
}

/** A form field, generated from the zod schemas of the model. */
export type FormField = FieldBase &
  (
    | { readonly type: 'text'; readonly multiline?: boolean; readonly placeholder?: string; readonly suggest?: 'instrument' | 'node' | 'melody' }
    | { readonly type: 'number'; readonly integer: boolean; readonly min?: number; readonly max?: number }
    | { readonly type: 'boolean' }
    | { readonly type: 'choice'; readonly options: readonly string[] }
    /** A list of strings. */
    | { readonly type: 'list'; readonly suggest?: 'instrument' | 'node' }
    /** A nested object with known keys (`retry`, `loop`, `budget`). */
    | { readonly type: 'group'; readonly fields: readonly FormField[] }
    /** A list of objects told apart by one key (triggers: `on`). */
    | { readonly type: 'variants'; readonly discriminator: string; readonly variants: readonly FormVariant[] }
    /** A map of names to objects (inputs). */
    | { readonly type: 'entries'; readonly fields: readonly FormField[] }
    /** Anything else, edited as YAML text (a JSON Schema, an environment, any value). */
    | { readonly type: 'yaml' }
  );

interface FieldBase {
  readonly key: string;
  readonly label: string;
  readonly description?: string;
  readonly required?: boolean;
  /** The default the model applies when the key is absent. */
  readonly default?: unknown;
}

/** One shape of a `variants` field, e.g. `on: schedule` with its `cron`. */
export interface FormVariant {
  readonly value: string;
  readonly description?: string;
  readonly fields: readonly FormField[];
}

/** A node kind as the inspector and palette describe it. */
export interface KindInfo {
  readonly kind: string;
  readonly description: string;
  readonly category: PaletteCategory;
  /** The fields of its `with:`. */
  readonly fields: readonly FormField[];
  /** Whether its nodes name an `instrument:`. */
  readonly instrument: boolean;
}

/** An instrument of the workspace's ensembles. */
export interface InstrumentInfo {
  /** `ensemble/instrument`. */
  readonly ref: string;
  readonly nickname: string;
  readonly kind: string;
  readonly role?: string;
}

/** Everything the board needs besides the document; sent once and when the workspace changes. */
export interface BoardCatalog {
  readonly palette: readonly PaletteEntry[];
  readonly kinds: Readonly<Record<string, KindInfo>>;
  /** Fields every node has: name, if, retry, timeout, fallback, outputs… */
  readonly nodeFields: readonly FormField[];
  /** The melody's own settings: triggers, inputs, budget, permissions… */
  readonly melodyFields: readonly FormField[];
  readonly instruments: readonly InstrumentInfo[];
  /** Names of the workspace's melodies (for `on: melody` triggers). */
  readonly melodies: readonly string[];
}
