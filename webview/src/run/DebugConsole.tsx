/**
 * The debug console under the canvas: Continue, Step and Cancel (enabled as the run
 * allows), where the run is paused, the breakpoints, and the run's event stream —
 * filterable by text or node, with or without the nodes' log lines. A line about a node
 * selects that node on the canvas.
 */
import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import { consoleLines } from '../../../src/protocol/boardRun';
import { focusNode, useBoard } from '../store';
import { Button } from '../ui/controls';
import { cancelRun, clearBreakpoints, debugRun, showConsole, toggleBreakpoints } from './runActions';

/** The console; rendered while it is open. */
export function DebugConsole() {
  const { run, controls } = useBoard();
  const [text, setText] = useState('');
  const [logs, setLogs] = useState(true);
  const lines = useMemo(() => consoleLines(run, { text, logs }), [run, text, logs]);
  const list = useRef<HTMLOListElement>(null);
  // Follow the stream while the view is at its end; someone reading further up keeps their place.
  const atEnd = useRef(true);
  useLayoutEffect(() => {
    const el = list.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const { paused, active } = controls;
  const where = paused
    ? `Paused before ${paused}`
    : active
      ? active.debuggable
        ? `Running ${active.runId}${active.pinned.length ? ` · pinned: ${active.pinned.join(', ')}` : ''}`
        : `Running ${active.runId} (started outside the board: no stepping)`
      : run.run
        ? `Last run: ${run.run.state}`
        : 'No run yet: ▶ Run in the toolbar';
  return (
    <section className="debug-console" aria-label="Debug console">
      <div className="debug-bar" role="toolbar" aria-label="Debugger">
        <Button onClick={() => debugRun('continue')} disabled={!paused} label={paused ? `Continue: ${paused} starts, the run goes on to the next breakpoint` : 'Continue (the run is not paused)'}>
          ▶ Continue
        </Button>
        <Button secondary onClick={() => debugRun('step')} disabled={!paused} label={paused ? `Step: ${paused} starts, the run pauses before the next node` : 'Step (the run is not paused)'}>
          ⤼ Step
        </Button>
        <Button secondary onClick={cancelRun} disabled={!active} label="Cancel the run">
          ■ Cancel
        </Button>
        {/* Pauses, starts and ends are announced by the status line; this is to look at. */}
        <span className={`debug-where${paused ? ' paused' : ''}`} title={run.run ? `Run ${run.run.runId}` : undefined}>
          {where}
        </span>
        <span className="debug-breakpoints" role="group" aria-label="Breakpoints">
          {controls.breakpoints.length === 0 ? (
            <span className="hint">No breakpoints: F9 on a selected node, or its red dot</span>
          ) : (
            <>
              {controls.breakpoints.map((id) => (
                <button key={id} type="button" className="chip" onClick={() => toggleBreakpoints([id])} aria-label={`Remove the breakpoint on ${id}`} title={`Remove the breakpoint on ${id}`}>
                  <span className="chip-dot" aria-hidden="true" /> {id} <span aria-hidden="true">✕</span>
                </button>
              ))}
              <button type="button" className="chip" onClick={clearBreakpoints}>
                Clear all
              </button>
            </>
          )}
        </span>
        <input className="palette-search console-filter" type="search" aria-label="Filter the events" placeholder="Filter events…" value={text} onChange={(e) => setText(e.target.value)} />
        <label className="console-logs">
          <input type="checkbox" checked={logs} onChange={(e) => setLogs(e.target.checked)} /> Log lines
        </label>
        <button type="button" className="chip" onClick={() => showConsole(false)} aria-label="Close the debug console" title="Close the debug console">
          ✕
        </button>
      </div>
      <ol
        className="console-lines"
        ref={list}
        role="log"
        // A stream read on demand: announcing every line would drown everything else.
        aria-live="off"
        aria-label={`Events of the run${run.dropped ? `, ${run.dropped} earlier ones not kept` : ''}`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
        }}
      >
        {run.dropped > 0 && <li className="console-line hint">… {run.dropped} earlier events not kept</li>}
        {lines.map((l) => (
          <li key={l.key} className={`console-line ${l.tone}`}>
            <span className="console-clock">{l.clock}</span>{' '}
            {l.nodeId ? (
              // Not a tab stop each (hundreds of lines); the Outline selects nodes from the keyboard.
              <button type="button" tabIndex={-1} className="console-text linklike" onClick={() => focusNode(l.nodeId!)} title={`Select ${l.nodeId} on the canvas`}>
                {l.text}
              </button>
            ) : (
              <span className="console-text">{l.text}</span>
            )}
          </li>
        ))}
        {lines.length === 0 && run.events.length > 0 && <li className="console-line hint">No event matches the filter.</li>}
      </ol>
    </section>
  );
}
