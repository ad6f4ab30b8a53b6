import picomatch from 'picomatch';
import type { Melody, Trigger } from '../model/melody';
import type { RunStatus } from '../model/run';

/** A melody that can be started by a trigger: its file and its loaded definition. */
export interface TriggerTarget {
  readonly file: string;
  readonly melody: Melody;
}

/** One trigger of one melody that fired. */
export interface Firing<T extends Trigger['on'] = Trigger['on']> {
  readonly target: TriggerTarget;
  readonly trigger: Extract<Trigger, { on: T }>;
  /** Position of the trigger in the melody's `triggers:`, to debounce each one on its own. */
  readonly index: number;
}

function triggersOf<T extends Trigger['on']>(targets: readonly TriggerTarget[], on: T): Firing<T>[] {
  const out: Firing<T>[] = [];
  for (const target of targets) {
    (target.melody.triggers ?? []).forEach((trigger, index) => {
      if (trigger.on === on) out.push({ target, trigger: trigger as Extract<Trigger, { on: T }>, index });
    });
  }
  return out;
}

const matcherCache = new Map<string, picomatch.Matcher>();
function matches(globs: readonly string[], path: string): boolean {
  const key = globs.join('\0');
  let m = matcherCache.get(key);
  if (!m) matcherCache.set(key, (m = picomatch([...globs], { dot: true })));
  return m(path);
}

/** Symphony's own files never start melodies: a run writing its journal must not start runs. */
const INTERNAL = picomatch(['.symphony/**', '**/.git/**', '.git/**'], { dot: true });

/**
 * Who saved a file: the person (`explicit`: Ctrl/Cmd+S, a save command; `focus`: auto-save
 * as the editor or window lost focus — an act of theirs too), or auto-save after a typing
 * pause (`delay`), which saves many times while a person is still writing.
 */
export type SaveReason = 'explicit' | 'focus' | 'delay';

/**
 * `on: save` triggers matching a saved file (workspace-relative, `/` separators). A
 * trigger without `paths` matches any file except melody files, so editing melodies does
 * not set them off. Auto-saves after a delay set off only triggers with `autosave: true`.
 */
export function saveFirings(targets: readonly TriggerTarget[], relPath: string, reason: SaveReason = 'explicit'): Firing<'save'>[] {
  if (INTERNAL(relPath)) return [];
  return triggersOf(targets, 'save').filter(
    ({ trigger }) => (reason !== 'delay' || trigger.autosave === true) && (trigger.paths?.length ? matches(trigger.paths, relPath) : !relPath.endsWith('.melody.yaml')),
  );
}

/** `on: commit` triggers matching a commit on `branch` that touched `files`. */
export function commitFirings(targets: readonly TriggerTarget[], commit: { readonly branch?: string; readonly files: readonly string[] }): Firing<'commit'>[] {
  return triggersOf(targets, 'commit').filter(({ trigger }) => {
    if (trigger.branches?.length && (commit.branch === undefined || !matches(trigger.branches, commit.branch))) return false;
    if (trigger.paths?.length && !commit.files.some((f) => matches(trigger.paths!, f))) return false;
    return true;
  });
}

/** `on: melody` triggers set off by a run of `melody` that ended with `status`. */
export function chainFirings(targets: readonly TriggerTarget[], ended: { readonly melody: string; readonly status: RunStatus }): Firing<'melody'>[] {
  return triggersOf(targets, 'melody').filter(({ trigger }) => {
    if (trigger.melody !== ended.melody) return false;
    const when = trigger.when ?? 'success';
    return when === 'always' || (when === 'success' ? ended.status === 'success' : ended.status === 'failure');
  });
}

/** Every `on: schedule` trigger. */
export function scheduleTriggers(targets: readonly TriggerTarget[]): Firing<'schedule'>[] {
  return triggersOf(targets, 'schedule');
}

/** Every `on: webhook` trigger, with the URL path it listens on (default `/<melody name>`). */
export function webhookRoutes(targets: readonly TriggerTarget[]): (Firing<'webhook'> & { readonly path: string })[] {
  return triggersOf(targets, 'webhook').map((f) => ({ ...f, path: normalizePath(f.trigger.path ?? `/${f.target.melody.name}`) }));
}

export function normalizePath(path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}
