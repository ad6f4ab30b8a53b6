import { distance } from 'fastest-levenshtein';

/**
 * The candidate nearest to `word` when it is close enough to be a likely typo
 * (`need` → `needs`, `shel` → `shell`), else undefined.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // One- and two-letter words are too short to guess from; short words allow one edit,
  // longer ones two (a swapped pair of letters costs two).
  const allowed = word.length <= 2 ? 0 : word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= allowed && best !== word ? best : undefined;
}
