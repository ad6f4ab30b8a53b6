import { basename } from 'node:path';
import { err, ok, type Result } from '../model/result';
import { instrumentRefs, rebindMelody } from './operations';
import { applyEdits } from './textEdit';

/**
 * Melody templates (`templates/melodies/*.melody.yaml`): real, valid melodies shipped with
 * the extension. Each starts with a title comment, `# Full Stack Review — lint → test →
 * AI review → deploy`, which the template picker shows. Templates play the instruments of
 * the starter ensemble `core` that `symphony init` writes (`core/reviewer`,
 * `core/tester`); when a workspace lacks one, the user picks one of theirs instead.
 */

/** A template as the picker lists it. */
export interface TemplateInfo {
  /** The file name without `.melody.yaml`, e.g. `full-stack-review`. */
  readonly id: string;
  readonly title: string;
  /** What it does, from the title comment. */
  readonly blurb: string;
  /** The instruments it names. */
  readonly instruments: readonly string[];
}

/** Reads a template's title comment and instruments. */
export function describeTemplate(file: string, text: string): TemplateInfo {
  const id = basename(file).replace(/\.melody\.ya?ml$/, '');
  const first = /^#\s*(.+)$/m.exec(text.split('\n')[0] ?? '')?.[1] ?? id;
  const [title, ...rest] = first.split(' — ');
  return { id, title: title!.trim(), blurb: rest.join(' — ').trim(), instruments: instrumentRefs(text) };
}

/** A melody name a file can carry: letters, digits, `-` and `_`. */
export const MELODY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * The text of a new melody from a template: its `name:` set, and its instruments swapped
 * for the workspace's where `instruments` says so. Comments and layout stay.
 */
export function instantiateTemplate(text: string, name: string, instruments: Readonly<Record<string, string>> = {}): Result<string, string> {
  if (!MELODY_NAME.test(name)) return err(`\`${name}\` cannot name a melody: use letters, digits, "-" and "_"`);
  const r = rebindMelody(text, { name, instruments });
  return r.ok ? ok(applyEdits(text, r.value.edits)) : r;
}
