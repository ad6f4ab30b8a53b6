/**
 * The inspector: the selected node's form (its kind's `with:`, its needs, the fields every
 * node has), its problems, its last run, breakpoint and pinned output, and its raw YAML —
 * or, with nothing selected, the melody's own settings: name, triggers, inputs, budget,
 * permissions, concurrency, on-failure.
 */
import { useMemo, useState } from 'react';
import type { BoardCatalog, BoardDocument, BoardNode, FieldPath } from '../../../src/protocol/boardModel';
import { perform } from '../actions';
import { glyphOf } from '../canvas/kinds';
import { NodeRunPanel } from '../run/NodeRunPanel';
import { Button, Checkbox, TextField } from '../ui/controls';
import { Fields, pathKey, type FormContext } from './Form';
import { ProblemList } from './Problems';

/** Diagnostics indexed by path, for the fields to show under themselves. */
function errorIndex(doc: BoardDocument): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const d of doc.diagnostics) {
    const key = pathKey(d.path);
    index.set(key, [...(index.get(key) ?? []), d.message]);
  }
  return index;
}

function useFormContext(doc: BoardDocument, catalog: BoardCatalog): FormContext {
  return useMemo(
    () => ({
      catalog,
      nodeIds: doc.melody?.nodes.map((n) => n.id) ?? [],
      errors: errorIndex(doc),
      set: (path: FieldPath, value: unknown) => void perform(value === undefined ? { kind: 'set-field', path: [...path] } : { kind: 'set-field', path: [...path], value }),
      setYaml: (path: FieldPath, yaml: string) => void perform({ kind: 'set-field-yaml', path: [...path], yaml }),
    }),
    [doc, catalog],
  );
}

interface InspectorProps {
  readonly doc: BoardDocument;
  readonly catalog: BoardCatalog;
  readonly node: BoardNode | undefined;
  readonly selectionCount: number;
  readonly renameRef: { current: HTMLElement | null };
}

/** The right-hand panel: the selected node, or the melody's settings. */
export function Inspector({ doc, catalog, node, selectionCount, renameRef }: InspectorProps) {
  const ctx = useFormContext(doc, catalog);
  if (node) return <NodeInspector key={node.id} doc={doc} node={node} ctx={ctx} renameRef={renameRef} />;
  return (
    <section className="inspector" aria-label="Melody settings">
      {selectionCount > 1 && <p className="hint">{selectionCount} nodes selected: Delete removes them all; drag moves them together.</p>}
      <h2>Melody</h2>
      <p className="hint">Select a node to edit it. These are the melody’s own settings.</p>
      <Fields fields={catalog.melodyFields} value={{ name: doc.melody?.name, description: doc.melody?.description, ...doc.melody?.settings }} path={[]} ctx={ctx} />
    </section>
  );
}

function NodeInspector({ doc, node, ctx, renameRef }: { doc: BoardDocument; node: BoardNode; ctx: FormContext; renameRef: { current: HTMLElement | null } }) {
  const kind = ctx.catalog.kinds[node.uses];
  const base: FieldPath = ['nodes', node.id];
  const [renameError, setRenameError] = useState<string>();
  const problems = doc.diagnostics.filter((d) => d.path[0] === 'nodes' && d.path[1] === node.id);
  const others = ctx.nodeIds.filter((id) => id !== node.id);
  const common = ctx.catalog.nodeFields.filter((f) => kind?.instrument || (f.key !== 'instrument' && f.key !== 'fallback') || node.data[f.key] !== undefined);
  return (
    <section className="inspector" aria-label={`Node ${node.id}`}>
      <h2>
        <span className="inspector-glyph" aria-hidden="true">
          {glyphOf(node.uses)}
        </span>{' '}
        {node.label}
      </h2>
      <p className="hint">{kind ? kind.description : `\`${node.uses}\` is not a node kind Symphony knows; see the problems below.`}</p>
      <TextField
        label="Id"
        value={node.id}
        description="Renaming updates every reference: needs, expressions, on-failure, positions. (F2)"
        error={renameError ? [renameError] : undefined}
        inputRef={(el) => {
          renameRef.current = el;
        }}
        onCommit={(to) =>
          void perform({ kind: 'rename', from: node.id, to }).then((r) => setRenameError(r.ok ? undefined : r.message))
        }
      />
      <div className="button-row">
        <Button secondary onClick={() => void perform({ kind: 'reveal', node: node.id })} label={`Show ${node.id} in the YAML`}>
          Show in YAML
        </Button>
        <Button secondary onClick={() => void perform({ kind: 'delete', nodes: [node.id], edges: [] })} label={`Delete ${node.id}`}>
          Delete
        </Button>
      </div>
      {problems.length > 0 && (
        <>
          <h3>Problems</h3>
          <ProblemList diagnostics={problems} />
        </>
      )}
      <NodeRunPanel node={node} />
      <h3>{kind ? `${node.uses}: with` : 'with'}</h3>
      {kind ? (
        <Fields fields={kind.fields} value={node.data.with} path={[...base, 'with']} ctx={ctx} />
      ) : (
        <Fields fields={[{ key: 'with', label: 'With', type: 'yaml' }]} value={node.data} path={base} ctx={ctx} />
      )}
      <h3>Needs</h3>
      {node.compensation ? (
        <p className="hint">This is the compensation node (on-failure.compensate): it runs alone after a failed run, so it has no needs.</p>
      ) : others.length === 0 ? (
        <p className="hint">No other nodes yet.</p>
      ) : (
        <div role="group" aria-label={`Nodes ${node.id} needs`} className="needs-list">
          {ctx.errors.get(pathKey([...base, 'needs']))?.map((m, i) => (
            <p key={i} className="field-error">
              {m}
            </p>
          ))}
          {others.map((id) => (
            <Checkbox
              key={id}
              label={id}
              checked={node.needs.includes(id)}
              onChange={(on) => void perform(on ? { kind: 'connect', from: id, to: node.id } : { kind: 'disconnect', from: id, to: node.id })}
            />
          ))}
        </div>
      )}
      <h3>Behaviour</h3>
      <Fields fields={common} value={node.data} path={base} ctx={ctx} />
      <h3>YAML</h3>
      <NodeSource key={node.source} node={node} />
    </section>
  );
}

/** The node's YAML as written, editable; Apply replaces it in the file, comments and all. */
function NodeSource({ node }: { node: BoardNode }) {
  const [draft, setDraft] = useState(node.source);
  const [error, setError] = useState<string>();
  return (
    <div className="node-source">
      <TextField
        label={`YAML of ${node.id}`}
        value={node.source}
        multiline
        monospace
        error={error ? [error] : undefined}
        description="Edit and apply; the text editor and the board follow."
        onCommit={setDraft}
      />
      <Button
        onClick={() => void perform({ kind: 'replace-node-source', node: node.id, source: draft }).then((r) => setError(r.ok ? undefined : r.message))}
        disabled={draft === node.source}
        label={`Apply the YAML of ${node.id}`}
      >
        Apply YAML
      </Button>
    </div>
  );
}
