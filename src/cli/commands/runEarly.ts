import { readFileSync, statSync } from 'node:fs';
import { sharedSpawner, type Spawner } from '../../core/programs/spawner';

/**
 * Starts the helpers that spawn programs (programs/spawner.ts) while `symphony run` loads
 * its code and the melody, when the melody's text lists commands — rather than once it is
 * loaded and checked, which left the first nodes waiting for a Node process to boot.
 * Only a guess from the text, so a melody that the node cache may serve whole (`cache:`) is
 * left to the engine's own `prepare` (prepareForPrograms), which starts them once a node is
 * not cached; a wrong guess costs idle helpers, which do not keep the CLI running. What
 * runs, and how, does not change. main.ts imports it (a few kB with the spawner) before
 * the run command's code, whose modules then run in one go: the melody is read at once, not
 * in a callback that would wait for them, so the helpers boot while they run.
 */
export async function startHelpersEarly(file: string, spawner: Spawner = sharedSpawner()): Promise<void> {
  if (process.platform === 'win32') return; // as runProgram: Windows spawns programs directly
  let text = '';
  try {
    // A regular file only: a pipe read here would be read to its end, and not by the run.
    if (statSync(file).isFile()) text = readFileSync(file, 'utf8');
  } catch {
    // No melody there: the run command says so.
  }
  if (/^[ \t]*commands[ \t]*:/m.test(text) && !/^[ \t]*cache[ \t]*:/m.test(text)) spawner.prestart();
}
