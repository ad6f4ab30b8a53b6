/**
 * Form controls for the side panels: the Webview UI Toolkit's components (they follow
 * the VS Code theme and its focus styles) behind small, typed props. Values are
 * committed on change (Enter or leaving the field), not on every keystroke: each commit
 * is one edit of the document and one step of undo.
 */
import {
  VSCodeButton,
  VSCodeCheckbox,
  VSCodeDropdown,
  VSCodeOption,
  VSCodeTextArea,
  VSCodeTextField,
} from './toolkit';
import { useId, type ReactNode } from 'react';

/** The value of the toolkit element an event came from. */
const valueOf = (e: Event | React.SyntheticEvent): string => (e.target as HTMLInputElement).value ?? '';

/** A field's help and errors under it, and the same for screen readers in its label. */
function Help({ id, description, error }: { id: string; description?: string; error?: readonly string[] }) {
  return (
    <>
      {error?.map((m, i) => (
        <p key={i} className="field-error" id={`${id}-error-${i}`}>
          {m}
        </p>
      ))}
      {description && <p className="field-help">{description}</p>}
    </>
  );
}

/** What a label reads aloud: the label, then its errors. */
function spoken(label: string, error?: readonly string[]): string {
  return error?.length ? `${label}, ${error.length === 1 ? 'error' : 'errors'}: ${error.join('; ')}` : label;
}

interface TextProps {
  readonly label: string;
  readonly value: string;
  readonly onCommit: (value: string) => void;
  readonly description?: string;
  readonly placeholder?: string;
  readonly multiline?: boolean;
  readonly error?: readonly string[];
  readonly required?: boolean;
  readonly monospace?: boolean;
  readonly inputRef?: (el: HTMLElement | null) => void;
}

/** A text field (or area); shows the document's value and commits what the user typed. */
export function TextField({ label, value, onCommit, description, placeholder, multiline, error, required, monospace, inputRef }: TextProps) {
  const id = useId();
  const common = {
    value,
    placeholder,
    'aria-label': spoken(label, error),
    'aria-invalid': error?.length ? (true as const) : undefined,
    className: `field-control${monospace ? ' mono' : ''}${error?.length ? ' invalid' : ''}`,
    onChange: (e: Event | React.SyntheticEvent) => {
      const v = valueOf(e);
      if (v !== value) onCommit(v);
    },
    // The wrapper forwards the ref to the custom element (its types say otherwise).
    ref: inputRef as unknown as undefined,
  };
  return (
    <div className="field">
      {multiline ? (
        // A new document value replaces what is shown (the key remounts the element).
        <VSCodeTextArea key={value} {...common} resize="vertical" rows={Math.min(8, Math.max(2, value.split('\n').length))}>
          {label}
          {required ? ' *' : ''}
        </VSCodeTextArea>
      ) : (
        <VSCodeTextField key={value} {...common}>
          {label}
          {required ? ' *' : ''}
        </VSCodeTextField>
      )}
      <Help id={id} description={description} error={error} />
    </div>
  );
}

interface CheckProps {
  readonly label: string;
  readonly checked: boolean;
  readonly onChange: (checked: boolean) => void;
  readonly description?: string;
  readonly error?: readonly string[];
}

/** A checkbox that reports the new state only when it changed. */
export function Checkbox({ label, checked, onChange, description, error }: CheckProps) {
  const id = useId();
  return (
    <div className="field">
      <VSCodeCheckbox
        key={String(checked)}
        checked={checked}
        aria-label={spoken(label, error)}
        onChange={(e: Event | React.SyntheticEvent) => {
          const now = (e.target as HTMLInputElement).checked;
          if (now !== checked) onChange(now);
        }}
      >
        {label}
      </VSCodeCheckbox>
      <Help id={id} description={description} error={error} />
    </div>
  );
}

/** One choice of a {@link Select}. */
export interface Choice {
  readonly value: string;
  readonly label: string;
}

interface SelectProps {
  readonly label: string;
  readonly value: string;
  readonly choices: readonly Choice[];
  readonly onChange: (value: string) => void;
  readonly description?: string;
  readonly error?: readonly string[];
}

/** A dropdown with a visible label. */
export function Select({ label, value, choices, onChange, description, error }: SelectProps) {
  const id = useId();
  // A value the list does not know (a typo in the YAML) is still shown, so it can be seen and replaced.
  const all = choices.some((c) => c.value === value) ? choices : [...choices, { value, label: `${value} (unknown)` }];
  return (
    <div className="field">
      <label className="field-label" id={`${id}-label`}>
        {label}
      </label>
      <VSCodeDropdown
        key={`${value}|${all.length}`}
        value={value}
        aria-label={spoken(label, error)}
        className={error?.length ? 'invalid' : undefined}
        onChange={(e: Event | React.SyntheticEvent) => {
          const v = valueOf(e);
          if (v !== value) onChange(v);
        }}
      >
        {all.map((c) => (
          <VSCodeOption key={c.value} value={c.value}>
            {c.label}
          </VSCodeOption>
        ))}
      </VSCodeDropdown>
      <Help id={id} description={description} error={error} />
    </div>
  );
}

interface ButtonProps {
  readonly children: ReactNode;
  readonly onClick: () => void;
  readonly secondary?: boolean;
  readonly title?: string;
  readonly label?: string;
  readonly disabled?: boolean;
}

/** A toolkit button; `label` names it for screen readers when its text is not enough. */
export function Button({ children, onClick, secondary, title, label, disabled }: ButtonProps) {
  return (
    <VSCodeButton appearance={secondary ? 'secondary' : 'primary'} onClick={onClick} title={title} aria-label={label} disabled={disabled}>
      {children}
    </VSCodeButton>
  );
}

/** A small text button for toolbars (an icon glyph plus a spoken label). */
export function IconButton({ glyph, label, onClick, disabled }: { glyph: string; label: string; onClick: () => void; disabled?: boolean }) {
  return (
    <VSCodeButton appearance="icon" aria-label={label} title={label} onClick={onClick} disabled={disabled}>
      <span aria-hidden="true" className="icon-glyph">
        {glyph}
      </span>
    </VSCodeButton>
  );
}

/** A toolbar button that shows or hides something, saying which state it is in. */
export function ToggleButton({ label, pressed, onClick, children }: { label: string; pressed: boolean; onClick: () => void; children: ReactNode }) {
  return (
    <VSCodeButton appearance="icon" aria-label={label} aria-pressed={pressed} title={`${pressed ? 'Hide' : 'Show'} ${label.toLowerCase()}`} onClick={onClick} className={pressed ? 'pressed' : undefined}>
      <span aria-hidden="true" className="icon-glyph">
        {children}
      </span>
    </VSCodeButton>
  );
}
