import { KINDS_WITH_INSTRUMENT, NODE_KIND_NAMES, NODE_KINDS, type NodeKind } from '../model/nodeKinds';
import type { BoardCatalog, InstrumentInfo, KindInfo, PaletteCategory, PaletteEntry } from '../../protocol/boardModel';
import { melodyFields, nodeFields, withFields } from './forms';
import type { NewNode } from './operations';

/**
 * What the board offers: the palette (instruments from the workspace's ensembles, the
 * node kinds as operators, control and addons) and, per kind, the inspector's fields.
 * New nodes start valid: each palette entry's body passes the loader as it stands.
 */

/** Where each kind sits in the palette (issue 5: Operators, Control, Addons). */
const CATEGORY: Record<NodeKind, PaletteCategory> = {
  shell: 'Operators',
  instrument: 'Instruments',
  transform: 'Operators',
  template: 'Operators',
  validate: 'Operators',
  'read-file': 'Operators',
  'write-file': 'Operators',
  'git-commit': 'Operators',
  'vscode-command': 'Operators',
  melody: 'Control',
  approval: 'Control',
  summarize: 'Addons',
  handoff: 'Addons',
  notify: 'Addons',
  assignment: 'Control',
  'merge-chambers': 'Control',
};

/** Palette labels: what a person looks for. */
const LABEL: Record<NodeKind, string> = {
  shell: 'Shell command',
  instrument: 'Instrument',
  transform: 'Transform',
  template: 'Template',
  validate: 'Validate (JSON Schema)',
  'read-file': 'Read file',
  'write-file': 'Write file',
  'git-commit': 'Git commit',
  'vscode-command': 'VS Code command',
  melody: 'Sub-melody',
  approval: 'Approval',
  summarize: 'Summarize',
  handoff: 'Handoff entry',
  notify: 'Notify',
  assignment: 'Conductor assignment',
  'merge-chambers': 'Merge chambers',
};

/** A valid `with:` for a new node of each kind, for the user to edit. */
const STARTER_WITH: Record<NodeKind, Record<string, unknown>> = {
  shell: { command: 'echo', args: ['hello'] },
  instrument: { prompt: 'Describe the task.' },
  transform: { value: 'hello' },
  template: { template: 'Hello' },
  validate: { value: '', schema: { type: 'string' } },
  'read-file': { path: 'README.md' },
  'write-file': { path: 'reports/output.md', content: '' },
  'git-commit': { message: 'Update from Symphony' },
  'vscode-command': { command: 'workbench.action.files.saveAll' },
  melody: { melody: 'melodies/other.melody.yaml' },
  approval: { message: 'Continue?' },
  summarize: { text: '' },
  handoff: { summary: '' },
  notify: { message: 'Done' },
  assignment: { task: 1, text: 'Describe the task', objective: 'Describe the task', scope: ['src/**'] },
  'merge-chambers': { chambers: [] },
};

const firstSentence = (s: string): string => s.split(/(?<=\.)\s/)[0] ?? s;

/** `nodes.<id>` in CEL, with the index form for ids that are not identifiers. */
export function nodeRef(id: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(id) ? `nodes.${id}` : `nodes['${id}']`;
}

/** The palette: the workspace's instruments first, then the kinds, then control and addons. */
export function paletteEntries(instruments: readonly InstrumentInfo[]): PaletteEntry[] {
  const fromInstruments = instruments.map(
    (i): PaletteEntry => ({
      key: `instrument:${i.ref}`,
      category: 'Instruments',
      label: i.nickname,
      detail: `${i.ref}${i.role ? ` · ${i.role}` : ''}`,
      keywords: [i.ref, i.kind, 'instrument', 'model'],
      kind: 'instrument',
    }),
  );
  const kinds = NODE_KIND_NAMES.filter((k) => k !== 'instrument').map(
    (k): PaletteEntry => ({
      key: `kind:${k}`,
      category: CATEGORY[k],
      label: LABEL[k],
      detail: firstSentence(NODE_KINDS[k].meta()?.description ?? k),
      keywords: [k],
      kind: k,
    }),
  );
  const loop: PaletteEntry = {
    key: 'control:loop',
    category: 'Control',
    label: 'Loop',
    detail: 'Repeats a command until a condition holds (at most 3 times).',
    keywords: ['loop', 'repeat', 'until', 'retry'],
    kind: 'shell',
  };
  return [...fromInstruments, ...kinds, loop];
}

/** The node a palette entry adds, or undefined for an entry that no longer exists. */
export function paletteNode(key: string, instruments: readonly InstrumentInfo[]): Omit<NewNode, 'position' | 'needs'> | undefined {
  if (key.startsWith('instrument:')) {
    const ref = key.slice('instrument:'.length);
    const instrument = instruments.find((i) => i.ref === ref);
    if (!instrument) return undefined;
    return {
      idHint: ref.split('/')[1] ?? 'instrument',
      body: () => ({ uses: 'instrument', instrument: ref, with: { prompt: `Describe the task for ${instrument.nickname}.` } }),
    };
  }
  if (key === 'control:loop') {
    return {
      idHint: 'loop',
      body: (id) => ({ uses: 'shell', with: { command: 'npm', args: ['test'] }, loop: { until: `\${{ ${nodeRef(id)}.output.exitCode == 0 }}`, max: 3 } }),
    };
  }
  const kind = key.slice('kind:'.length) as NodeKind;
  if (!key.startsWith('kind:') || !Object.hasOwn(NODE_KINDS, kind) || kind === 'instrument') return undefined;
  return { idHint: kind, body: () => ({ uses: kind, with: structuredClone(STARTER_WITH[kind]) }) };
}

/** The kinds with their inspector fields. */
export function kindInfos(): Record<string, KindInfo> {
  return Object.fromEntries(
    NODE_KIND_NAMES.map((k) => [
      k,
      {
        kind: k,
        description: NODE_KINDS[k].meta()?.description ?? '',
        category: CATEGORY[k],
        fields: withFields(k),
        instrument: KINDS_WITH_INSTRUMENT.includes(k),
      },
    ]),
  );
}

/** The forms depend on the model only: generated once per process. */
let forms: Pick<BoardCatalog, 'kinds' | 'nodeFields' | 'melodyFields'> | undefined;

/** Everything the board offers in this workspace. */
export function boardCatalog(instruments: readonly InstrumentInfo[], melodies: readonly string[]): BoardCatalog {
  forms ??= { kinds: kindInfos(), nodeFields: nodeFields(), melodyFields: melodyFields() };
  return { palette: paletteEntries(instruments), ...forms, instruments, melodies };
}
