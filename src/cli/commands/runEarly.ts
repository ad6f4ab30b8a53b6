import { readFile } from 'node:fs/promises';
import { sharedSpawner, type Spawner } from '../../core/programs/spawner';

/**
 * Starts the helpers that spawn programs (programs/spawner.ts) while `symphony run` loads
 * its code and the melody, when the melody's text lists commands — rather than once it is
 * loaded and checked, which left the first nodes waiting for a Node process to boot.
 * Only a guess from the text, so a melody that the node cache may serve whole (`cache:`) is
 * left to the engine's own `prepare` (prepareForPrograms), which starts them once a node is
 * not cached; a wrong guess costs idle helpers, which do not keep the CLI running. What
 * runs, and how, does not change. Imported by main.ts itself (a few kB with the spawner):
 * a module that `import()` loads beside the run command's is evaluated only once all of
 * that command's code is, which is what this is meant to overlap.
 */
export async function startHelpersEarly(file: string, spawner: Spawner = sharedSpawner()): Promise<void> {
  if (process.platform === 'win32') return; // as runProgram: Windows spawns programs directly
  const text = await readFile(file, 'utf8').catch(() => '');
  if (/^[ \t]*commands[ \t]*:/m.test(text) && !/^[ \t]*cache[ \t]*:/m.test(text)) spawner.prestart();
}
