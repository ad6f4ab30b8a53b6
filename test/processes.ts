import { readdirSync, readFileSync } from 'node:fs';
/**
 * The processes (Linux: from /proc) whose command line holds `marker`, zombies excluded.
 * A sandboxed program has process ids of its own namespace — what `process.pid` says inside
 * is not a pid outside — so tests find their processes by a marker in their arguments.
 */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') found.push(Number(name));
    } catch {
      // gone while looking
    }
  }
  return found;
}
