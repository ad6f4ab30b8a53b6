/**
 * "Run with inputs…": a small dialog with a field per declared input, prefilled with its
 * default. Values go to the extension as typed; the engine coerces them to each input's
 * type and refuses what does not fit, with a message in the status line.
 */
import { useEffect, useRef, useState } from 'react';
import type { BoardMelody } from '../../../src/protocol/boardModel';
import { Button, TextField } from '../ui/controls';

/** An input the melody declares, as the dialog asks for it. */
export interface DeclaredInput {
  readonly name: string;
  readonly type: string;
  readonly description?: string;
  readonly required: boolean;
  /** The default as text to edit. */
  readonly value: string;
}

const asText = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** The melody's `inputs:` as written (the board's data is the YAML's, checked or not). */
export function declaredInputs(melody: BoardMelody): DeclaredInput[] {
  const inputs = melody.settings.inputs;
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) return [];
  return Object.entries(inputs as Record<string, unknown>).map(([name, raw]) => {
    const spec = (typeof raw === 'object' && raw !== null ? raw : {}) as { type?: unknown; description?: unknown; required?: unknown; default?: unknown };
    return {
      name,
      type: typeof spec.type === 'string' ? spec.type : 'string',
      description: typeof spec.description === 'string' ? spec.description : undefined,
      required: spec.required === true && spec.default === undefined,
      value: asText(spec.default),
    };
  });
}

interface RunInputsProps {
  readonly melody: BoardMelody;
  readonly onRun: (values: Record<string, string>) => void;
  readonly onCancel: () => void;
}

/** The dialog; Escape or Cancel closes it, Run sends the values. */
export function RunInputs({ melody, onRun, onCancel }: RunInputsProps) {
  const inputs = declaredInputs(melody);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(inputs.map((i) => [i.name, i.value])));
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    dialog.current?.querySelector<HTMLElement>('vscode-text-field, vscode-text-area')?.focus();
  }, []);
  const run = () => {
    // An empty field of a non-text input leaves it out, so the melody's default applies.
    const given = Object.fromEntries(Object.entries(values).filter(([name, v]) => v !== '' || inputs.find((i) => i.name === name)?.type === 'string'));
    onRun(given);
  };
  return (
    <div
      className="dialog-backdrop"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onCancel();
        }
      }}
    >
      <div className="dialog" role="dialog" aria-modal="true" aria-label={`Run ${melody.name ?? 'the melody'} with inputs`} ref={dialog}>
        <h2>Run {melody.name ?? 'the melody'} with inputs</h2>
        {inputs.map((i) => (
          <TextField
            key={i.name}
            label={`${i.name} (${i.type})`}
            value={values[i.name] ?? ''}
            required={i.required}
            multiline={i.type === 'object' || i.type === 'array'}
            monospace={i.type === 'object' || i.type === 'array'}
            description={i.description ?? (i.type === 'object' || i.type === 'array' ? 'JSON' : undefined)}
            onCommit={(v) => setValues((old) => ({ ...old, [i.name]: v }))}
          />
        ))}
        <div className="button-row">
          <Button onClick={run}>▶ Run</Button>
          <Button secondary onClick={onCancel}>
            Cancel
          </Button>
        </div>
      </div>
    </div>
  );
}
