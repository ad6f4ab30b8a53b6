// Apart from handoff.ts (which reads and writes the log, with its locks) so that the CLI can
// show the default in `symphony --help` without loading any of that.

/** Entries `symphony handoff compact` keeps in `handoff.md` by default. */
export const DEFAULT_KEEP = 20;
