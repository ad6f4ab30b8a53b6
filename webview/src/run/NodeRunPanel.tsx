/**
 * The inspector's run sections for the selected node: how it did in the latest run (its
 * status, duration, attempts, tokens and cost, error or reason, and its output), its
 * breakpoint, and its pinned output for preview runs — pinned from the run, or typed in.
 */
import { useState } from 'react';
import type { BoardNode } from '../../../src/protocol/boardModel';
import { nodeRunLine, wasPinned } from '../../../src/protocol/boardRun';
import { useBoard } from '../store';
import { Button, Checkbox, TextField } from '../ui/controls';
import { openRunDocument, pinOutput, toggleBreakpoints, unpin } from './runActions';
import { own } from '../../../src/core/model/names';

/** Outputs longer than this show their beginning in the inspector; the document has them whole. */
const SHOWN_OUTPUT_CHARS = 4000;

const pretty = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? null, null, 2));

/** The run, breakpoint and pin sections of a node's inspector. */
export function NodeRunPanel({ node }: { node: BoardNode }) {
  const { run, controls, pins, preview } = useBoard();
  const record = own(run.run?.nodes, node.id);
  const runId = run.run?.runId;
  const hasOutput = record?.output !== undefined || record?.outputRef !== undefined;
  const shown = record?.output !== undefined ? pretty(record.output) : undefined;
  const pin = own(pins, node.id);
  return (
    <>
      <h3>Last run</h3>
      {!record || !runId ? (
        <p className="hint">{run.run?.state === 'running' ? 'Not started yet in this run.' : 'Not run yet. ▶ Run in the toolbar runs the melody; its status shows on every card.'}</p>
      ) : (
        <div className="node-run" aria-label={`Last run of ${node.id}`} role="group">
          <p className={`node-run-state run-${record.state}`}>
            {record.state}
            {nodeRunLine(record) ? ` · ${nodeRunLine(record)}` : ''}
            {record.instrument ? ` · ${record.instrument}` : ''}
          </p>
          {record.error && <pre className="node-run-error">{record.error}</pre>}
          {record.reason && !wasPinned(record) && <p className="hint">Why: {record.reason}</p>}
          {shown !== undefined && (
            <pre className="node-output" tabIndex={0} aria-label={`Output of ${node.id}`}>
              {shown.length > SHOWN_OUTPUT_CHARS ? `${shown.slice(0, SHOWN_OUTPUT_CHARS)}\n…` : shown}
            </pre>
          )}
          {record.output === undefined && record.outputRef && <p className="hint">The output is large: it is kept as an artifact. Open it to read it.</p>}
          <div className="button-row">
            {hasOutput && (
              <Button secondary onClick={() => openRunDocument(runId, node.id, 'output')} label={`Open the output of ${node.id} beside the board`}>
                Open output
              </Button>
            )}
            <Button secondary onClick={() => openRunDocument(runId, node.id, 'log')} label={`Open the log of ${node.id} beside the board`}>
              Open log
            </Button>
          </div>
        </div>
      )}
      <h3>Debug and preview</h3>
      <Checkbox
        label="Pause before this node runs (breakpoint)"
        checked={controls.breakpoints.includes(node.id)}
        description="F9 toggles it on the selected nodes; the debug console continues and steps."
        onChange={() => toggleBreakpoints([node.id])}
      />
      {pin ? (
        <PinnedEditor key={JSON.stringify(pin.output)} node={node.id} output={pin.output} fromRun={pin.fromRun} preview={preview} />
      ) : (
        <>
          <p className="hint">Pin an output and preview runs skip this node: it gives the pinned output instead, so nothing it would do happens.</p>
          <div className="button-row">
            <Button
              secondary
              disabled={!runId || !hasOutput || record?.state !== 'success'}
              onClick={() => runId && void pinOutput(node.id, { source: 'run', runId })}
              label={`Pin the output of ${node.id} from the last run`}
            >
              Pin last output
            </Button>
            <Button secondary onClick={() => void pinOutput(node.id, { source: 'typed', output: {} })} label={`Pin an output typed by hand to ${node.id}`}>
              Pin a value…
            </Button>
          </div>
        </>
      )}
    </>
  );
}

/** The pinned output as JSON to edit; a commit pins what was typed, if it is JSON. */
function PinnedEditor({ node, output, fromRun, preview }: { node: string; output: unknown; fromRun?: string; preview: boolean }) {
  const [error, setError] = useState<string>();
  return (
    <div className="pinned">
      <p className="hint">
        <span aria-hidden="true">⚑ </span>
        Pinned {fromRun ? `from run ${fromRun}` : 'by hand'}. {preview ? 'Preview runs skip this node and use this output.' : 'Preview is off in the toolbar, so the node runs.'}
      </p>
      <TextField
        label={`Pinned output of ${node} (JSON)`}
        value={JSON.stringify(output ?? null, null, 2)}
        multiline
        monospace
        error={error ? [error] : undefined}
        onCommit={(text) => {
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch (e) {
            setError(`not JSON: ${(e as Error).message}`);
            return;
          }
          setError(undefined);
          void pinOutput(node, { source: 'typed', output: value });
        }}
      />
      <Button secondary onClick={() => unpin(node)} label={`Unpin ${node}: it runs again`}>
        Unpin
      </Button>
    </div>
  );
}
