import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../nodes/types';
import { writeFileAtomic } from '../store/files';
import { withFileLock } from '../store/lock';
import { applyTick, parseSheet, tickEdit } from './sheet';

const SHEET = 'sheetMusic.md';

/** A task to tick: its number when planned and its text (to find it again if the sheet changed). */
export interface TaskToTick {
  readonly task: number;
  readonly text: string;
}

/**
 * Ticks tasks in sheetMusic.md — as an editor edit in VS Code (so an open editor and undo
 * see it), else in the file under a lock — finding each by its text when the sheet changed
 * since the plan. Resolves with a note per task that was not ticked, and why.
 */
export async function tickTasks(root: string, tasks: readonly TaskToTick[], editText?: Host['editText']): Promise<string[]> {
  const notes: string[] = [];
  const path = join(root, SHEET);
  for (const t of tasks) {
    const text = await fsp.readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) {
      notes.push(`task ${t.task} was not ticked: there is no ${SHEET}`);
      continue;
    }
    const all = parseSheet(text).tasks;
    const same = all.find((x) => x.number === t.task && x.text === t.text) ?? all.find((x) => x.text === t.text && !x.done);
    const edit = same ? tickEdit(text, same.number) : undefined;
    if (!same || !edit) {
      notes.push(`task ${t.task} was not ticked: ${same ? 'it is already done' : 'it is no longer in sheetMusic.md as written'}`);
      continue;
    }
    if (editText && (await editText(path, { ...edit, text: 'x' }))) continue;
    await withFileLock(join(root, '.symphony', 'sheetMusic.lock'), async () => {
      const current = await fsp.readFile(path, 'utf8');
      const again = tickEdit(current, same.number);
      if (again) await writeFileAtomic(path, applyTick(current, again), { durable: false });
    });
  }
  return notes;
}
