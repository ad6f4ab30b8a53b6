import { runCli } from './main';

// The `symphony` executable: what `dist/cli.js` starts (and `tsx src/cli/bin.ts` from
// source). Kept apart from main.ts so that importing runCli never runs the CLI.
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`symphony: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
