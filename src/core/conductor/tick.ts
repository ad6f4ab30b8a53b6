import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../nodes/types';
import { writeFileAtomic } from '../store/files';
import { withFileLock } from '../store/lock';
import { applyTick, parseSheet, tickEdit, type SheetTask } from './sheet';

const SHEET = 'sheetMusic.md';

/** A task to tick: its number when planned and its text (to find it again if the sheet changed). */
export interface TaskToTick {
  readonly task: number;
  readonly text: string;
}

/** The task in the sheet now: same number and text, else the first open one with its text (the sheet changed since the plan). */
export function findTask(tasks: readonly SheetTask[], t: TaskToTick): SheetTask | undefined {
  return tasks.find((x) => x.number === t.task && x.text === t.text) ?? tasks.find((x) => x.text === t.text && !x.done);
}

/** Whether the task is ticked in sheetMusic.md now (done by an earlier run of the plan, or by hand). */
export async function isTicked(root: string, t: TaskToTick): Promise<boolean> {
  const text = await fsp.readFile(join(root, SHEET), 'utf8').catch(() => undefined);
  return text !== undefined && findTask(parseSheet(text).tasks, t)?.done === true;
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
    const same = findTask(parseSheet(text).tasks, t);
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
