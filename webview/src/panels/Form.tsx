/**
 * Forms generated from the model's schemas (`FormField`s, see `src/core/board/forms.ts`).
 * Each field shows the document's value and the diagnostics that point at its path, and
 * commits a change as a `set-field` intent: the document, not the form, holds the truth.
 */
import { stringify } from 'yaml';
import { useState } from 'react';
import type { BoardCatalog, FieldPath, FormField, FormVariant } from '../../../src/protocol/boardModel';
import { Button, Checkbox, Select, TextField, type Choice } from '../ui/controls';

/** Everything a form needs besides its fields. */
export interface FormContext {
  readonly catalog: BoardCatalog;
  readonly nodeIds: readonly string[];
  /** Diagnostic messages by path (see {@link pathKey}). */
  readonly errors: ReadonlyMap<string, readonly string[]>;
  /** Sets the value at `path`; `undefined` removes it. */
  readonly set: (path: FieldPath, value: unknown) => void;
  /** Sets the value at `path` from YAML text. */
  readonly setYaml: (path: FieldPath, yaml: string) => void;
}

/** The key of a path in the error index. */
export function pathKey(path: FieldPath): string {
  return path.join('\u0000');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value for a field that must be present, for the user to change. */
function starter(field: FormField): unknown {
  if (field.default !== undefined) return field.default;
  switch (field.type) {
    case 'number':
      return field.min !== undefined && field.min > 0 ? field.min : 1;
    case 'boolean':
      return false;
    case 'choice':
      return field.options[0];
    case 'list':
      return [];
    case 'group':
      return Object.fromEntries(field.fields.filter((f) => f.required).map((f) => [f.key, starter(f)]));
    case 'variants':
      return [];
    case 'entries':
      return {};
    default:
      return '';
  }
}

function variantStarter(discriminator: string, v: FormVariant): Obj {
  return { [discriminator]: v.value, ...Object.fromEntries(v.fields.filter((f) => f.required).map((f) => [f.key, starter(f)])) };
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The fields of an object value. */
export function Fields({ fields, value, path, ctx }: { fields: readonly FormField[]; value: unknown; path: FieldPath; ctx: FormContext }) {
  const obj = isObj(value) ? value : {};
  return (
    <>
      {fields.map((f) => (
        <Field key={f.key} field={f} value={obj[f.key]} path={[...path, f.key]} ctx={ctx} />
      ))}
    </>
  );
}

function suggestions(kind: 'instrument' | 'node' | 'melody', ctx: FormContext): Choice[] {
  if (kind === 'instrument') return ctx.catalog.instruments.map((i) => ({ value: i.ref, label: `${i.ref} — ${i.nickname}` }));
  if (kind === 'node') return ctx.nodeIds.map((id) => ({ value: id, label: id }));
  return ctx.catalog.melodies.map((m) => ({ value: m, label: m }));
}

/** One field, by type. */
export function Field({ field, value, path, ctx }: { field: FormField; value: unknown; path: FieldPath; ctx: FormContext }) {
  const error = ctx.errors.get(pathKey(path));
  const [local, setLocal] = useState<string>();
  const common = { label: field.label, description: field.description, error: local ? [...(error ?? []), local] : error };
  const commitText = (v: string) => ctx.set(path, v === '' && !field.required ? undefined : v);
  switch (field.type) {
    case 'text': {
      if (field.suggest && (field.suggest !== 'instrument' || ctx.catalog.instruments.length > 0)) {
        const none: Choice[] = field.required ? [] : [{ value: '', label: '(none)' }];
        return <Select {...common} value={text(value)} choices={[...none, ...suggestions(field.suggest, ctx)]} onChange={commitText} />;
      }
      return <TextField {...common} value={text(value)} placeholder={field.placeholder} multiline={field.multiline} required={field.required} onCommit={commitText} />;
    }
    case 'number':
      return (
        <TextField
          {...common}
          value={text(value)}
          placeholder={field.default !== undefined ? `default ${String(field.default)}` : field.min !== undefined ? `at least ${field.min}` : undefined}
          required={field.required}
          onCommit={(v) => {
            if (v.trim() === '') return ctx.set(path, undefined);
            const n = Number(v);
            if (!Number.isFinite(n) || (field.integer && !Number.isInteger(n))) return setLocal(`${field.label} must be ${field.integer ? 'a whole number' : 'a number'}`);
            setLocal(undefined);
            ctx.set(path, n);
          }}
        />
      );
    case 'boolean':
      return <Checkbox {...common} checked={value === undefined ? field.default === true : value === true} onChange={(c) => ctx.set(path, c)} />;
    case 'choice': {
      const unset: Choice[] = field.required ? [] : [{ value: '', label: field.default !== undefined ? `(default: ${String(field.default)})` : '(none)' }];
      return <Select {...common} value={text(value)} choices={[...unset, ...field.options.map((o) => ({ value: o, label: o }))]} onChange={commitText} />;
    }
    case 'list': {
      const items = Array.isArray(value) ? value.map(text) : typeof value === 'string' ? [value] : [];
      const known = field.suggest === 'instrument' && ctx.catalog.instruments.length ? ` Known: ${ctx.catalog.instruments.map((i) => i.ref).join(', ')}.` : '';
      return (
        <TextField
          {...common}
          description={`${field.description ?? ''} One per line.${known}`.trim()}
          value={items.join('\n')}
          multiline
          onCommit={(v) => {
            const lines = v.split('\n').map((l) => l.trim()).filter(Boolean);
            ctx.set(path, lines.length ? lines : undefined);
          }}
        />
      );
    }
    case 'group':
      return <Group field={field} value={value} path={path} ctx={ctx} />;
    case 'variants':
      return <VariantList field={field} value={value} path={path} ctx={ctx} />;
    case 'entries':
      return <Entries field={field} value={value} path={path} ctx={ctx} />;
    case 'yaml':
      return (
        <TextField
          {...common}
          value={value === undefined ? '' : stringify(value, { lineWidth: 0 }).replace(/\n$/, '')}
          description={`${field.description ?? ''} (YAML)`.trim()}
          multiline
          monospace
          onCommit={(v) => ctx.setYaml(path, v)}
        />
      );
    default: {
      const never: never = field;
      return never;
    }
  }
}

function Group({ field, value, path, ctx }: { field: Extract<FormField, { type: 'group' }>; value: unknown; path: FieldPath; ctx: FormContext }) {
  const error = ctx.errors.get(pathKey(path));
  const present = value !== undefined;
  return (
    <fieldset className="group">
      <legend>{field.label}</legend>
      {field.description && <p className="field-help">{field.description}</p>}
      {error?.map((m, i) => (
        <p key={i} className="field-error">
          {m}
        </p>
      ))}
      {present || !field.fields.some((f) => f.required) ? (
        <>
          <Fields fields={field.fields} value={value} path={path} ctx={ctx} />
          {present && !field.required && (
            <Button secondary onClick={() => ctx.set(path, undefined)} label={`Remove ${field.label}`}>
              Remove {field.label.toLowerCase()}
            </Button>
          )}
        </>
      ) : (
        <Button secondary onClick={() => ctx.set(path, starter(field))} label={`Add ${field.label}`}>
          Add {field.label.toLowerCase()}
        </Button>
      )}
    </fieldset>
  );
}

function VariantList({ field, value, path, ctx }: { field: Extract<FormField, { type: 'variants' }>; value: unknown; path: FieldPath; ctx: FormContext }) {
  const list = Array.isArray(value) ? value : [];
  const [adding, setAdding] = useState(field.variants[0]?.value ?? '');
  const d = field.discriminator;
  const choices = field.variants.map((v) => ({ value: v.value, label: v.value }));
  return (
    <fieldset className="group">
      <legend>{field.label}</legend>
      {field.description && <p className="field-help">{field.description}</p>}
      {list.map((item, i) => {
        const kind = isObj(item) ? text(item[d]) : '';
        const variant = field.variants.find((v) => v.value === kind);
        const at = [...path, i];
        return (
          <div className="card" key={`${i}-${kind}`} role="group" aria-label={`${field.label} ${i + 1}: ${d} ${kind}`}>
            <Select
              label={`${d} (${i + 1})`}
              value={kind}
              choices={choices}
              description={variant?.description}
              error={ctx.errors.get(pathKey([...at, d])) ?? ctx.errors.get(pathKey(at))}
              onChange={(v) => {
                const next = field.variants.find((x) => x.value === v);
                if (next) ctx.set(at, variantStarter(d, next));
              }}
            />
            {variant && <Fields fields={variant.fields} value={item} path={at} ctx={ctx} />}
            <Button secondary onClick={() => ctx.set(at, undefined)} label={`Remove ${field.label.toLowerCase()} ${i + 1}`}>
              Remove
            </Button>
          </div>
        );
      })}
      <div className="add-row">
        <Select label={`New ${field.label.toLowerCase().replace(/s$/, '')}`} value={adding} choices={choices} onChange={setAdding} />
        <Button
          onClick={() => {
            const v = field.variants.find((x) => x.value === adding);
            if (v) ctx.set([...path, list.length], variantStarter(d, v));
          }}
          label={`Add a ${adding} ${field.label.toLowerCase().replace(/s$/, '')}`}
        >
          Add
        </Button>
      </div>
    </fieldset>
  );
}

function Entries({ field, value, path, ctx }: { field: Extract<FormField, { type: 'entries' }>; value: unknown; path: FieldPath; ctx: FormContext }) {
  const map = isObj(value) ? value : {};
  const [name, setName] = useState('');
  const singular = field.label.toLowerCase().replace(/s$/, '');
  return (
    <fieldset className="group">
      <legend>{field.label}</legend>
      {field.description && <p className="field-help">{field.description}</p>}
      {Object.entries(map).map(([key, entry]) => (
        <div className="card" key={key} role="group" aria-label={`${singular} ${key}`}>
          <TextField
            label="Name"
            value={key}
            error={ctx.errors.get(pathKey([...path, key]))}
            onCommit={(v) => {
              if (!v || Object.hasOwn(map, v)) return;
              // Renaming keeps the entry's place: the map is rewritten in order.
              ctx.set(path, Object.fromEntries(Object.entries(map).map(([k, e]) => [k === key ? v : k, e])));
            }}
          />
          <Fields fields={field.fields} value={entry} path={[...path, key]} ctx={ctx} />
          <Button secondary onClick={() => ctx.set([...path, key], undefined)} label={`Remove ${singular} ${key}`}>
            Remove
          </Button>
        </div>
      ))}
      <div className="add-row">
        <TextField label={`New ${singular} name`} value={name} onCommit={setName} />
        <Button
          disabled={!name || Object.hasOwn(map, name)}
          onClick={() => {
            ctx.set([...path, name], Object.fromEntries(field.fields.filter((f) => f.required || f.default !== undefined).map((f) => [f.key, starter(f)])));
            setName('');
          }}
          label={`Add ${singular} ${name}`}
        >
          Add
        </Button>
      </div>
    </fieldset>
  );
}
