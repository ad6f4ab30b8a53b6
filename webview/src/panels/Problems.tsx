/**
 * Diagnostics as a list of buttons: each shows where the problem is and, activated, opens
 * the text editor at that line (and selects the node it concerns).
 */
import type { BoardDiagnostic } from '../../../src/protocol/boardModel';
import { perform } from '../actions';
import { focusNode } from '../store';

const ICON = { error: '✖', warning: '⚠', info: 'ℹ' } as const;

/** The problems of the melody (or of one node), each a button to its line. */
export function ProblemList({ diagnostics }: { diagnostics: readonly BoardDiagnostic[] }) {
  if (diagnostics.length === 0) return <p className="hint">No problems.</p>;
  return (
    <ul className="problems" aria-label={`${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}`}>
      {diagnostics.map((d, i) => (
        <li key={i}>
          <button
            type="button"
            className={`problem ${d.severity}`}
            onClick={() => {
              if (d.path[0] === 'nodes' && typeof d.path[1] === 'string') focusNode(d.path[1]);
              void perform({ kind: 'reveal', line: d.line, column: d.column });
            }}
            aria-label={`${d.severity} at line ${d.line}, column ${d.column}: ${d.message}. Activate to show it in the text editor.`}
          >
            <span className={`problem-icon ${d.severity}`} aria-hidden="true">
              {ICON[d.severity]}
            </span>
            <span className="problem-text">{d.message}</span>
            <span className="problem-where">
              {d.line}:{d.column}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
