/**
 * The run group of the board's toolbar: Run, Run with inputs…, the Preview toggle, Cancel,
 * the debug console's toggle, and the run in one line — its state, progress, tokens and cost.
 */
import { useState } from 'react';
import type { BoardMelody } from '../../../src/protocol/boardModel';
import { runSummary } from '../../../src/protocol/boardRun';
import { useBoard } from '../store';
import { Button, IconButton, ToggleButton } from '../ui/controls';
import { RunInputs, declaredInputs } from './RunInputs';
import { cancelRun, setPreview, showConsole, startRun } from './runActions';

/** The state glyph in front of the summary (the words follow it). */
const GLYPH = { running: '⟳', success: '✓', failure: '✗', cancelled: '⊘' } as const;

/** The run controls for `melody` (rendered only when the melody can be drawn). */
export function RunToolbar({ melody }: { melody: BoardMelody }) {
  const { run, controls, pins, preview, starting, console } = useBoard();
  const [asking, setAsking] = useState(false);
  const inputs = declaredInputs(melody);
  const nodeIds = new Set(melody.nodes.map((n) => n.id));
  const pinned = Object.keys(pins).filter((id) => nodeIds.has(id)).length;
  const busy = starting || controls.active?.debuggable === true;
  const planned = melody.nodes.filter((n) => !n.compensation).length;
  const summary = run.run ? runSummary(run.run, planned) : undefined;
  const runLabel = preview && pinned ? `Run a preview: ${pinned} pinned node${pinned === 1 ? '' : 's'} give${pinned === 1 ? 's' : ''} ${pinned === 1 ? 'its' : 'their'} pinned output` : 'Run the melody';
  return (
    <div className="run-group" role="group" aria-label="Run">
      <Button onClick={() => void startRun()} disabled={busy} label={runLabel} title={runLabel}>
        ▶ {preview && pinned ? 'Preview' : 'Run'}
      </Button>
      {inputs.length > 0 && <IconButton glyph="▾" label="Run with inputs…" onClick={() => setAsking(true)} disabled={busy} />}
      <ToggleButton label={`Preview with pinned outputs (${pinned} pinned)`} pressed={preview} onClick={() => setPreview(!preview)}>
        ⚑{pinned > 0 ? <span className="count">{pinned}</span> : null}
      </ToggleButton>
      <IconButton glyph="■" label="Cancel the run" onClick={cancelRun} disabled={!controls.active} />
      <ToggleButton label="Debug console" pressed={console} onClick={() => showConsole(!console)}>
        ▤
      </ToggleButton>
      {run.run && summary && (
        <span className={`run-summary run-${run.run.state}`} title={`Run ${run.run.runId}: ${summary}`}>
          <span aria-hidden="true">{controls.paused ? '‖' : GLYPH[run.run.state]}</span> {controls.paused ? `paused before ${controls.paused} · ` : ''}
          {summary}
        </span>
      )}
      {asking && (
        <RunInputs
          melody={melody}
          onCancel={() => setAsking(false)}
          onRun={(values) => {
            setAsking(false);
            void startRun(values);
          }}
        />
      )}
    </div>
  );
}
