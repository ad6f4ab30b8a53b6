// Context packing: what an instrument's prompt costs as handoff.md grows, against sending
// the whole log, and how long packing takes in a workspace of 5,000 files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactHandoff } from '../src/core/conductor/compact';
import { formatHandoffEntry } from '../src/core/conductor/handoff';
import { packPrompt } from '../src/core/context/prompt';
import { PermissionGuard } from '../src/core/engine/permissions';
import type { Instrument } from '../src/core/model/instrument';
import type { WithOf } from '../src/core/model/nodeKinds';
import { countTokens } from '../src/core/providers/tokens';
import type { Bench, Figure } from './index';

const MODEL = 'gpt-4o-mini'; // 128k tokens, counted exactly

function instrument(root: string, handles?: string[]): Instrument {
  return {
    nickname: 'Tuba',
    kind: 'model',
    role: 'Handles schema and queries.',
    model: { provider: 'openai-compatible', id: MODEL },
    concurrency: 1,
    ...(handles ? { handles } : {}),
    ref: 'backend/database',
    ensemble: 'backend',
    id: 'database',
    file: join(root, 'ensembles', 'backend', 'database.yaml'),
  };
}

const ctxOf = (root: string) => ({ workspaceRoot: root, permissions: new PermissionGuard(root, {}), signal: new AbortController().signal });

const NICKS = ['Tuba', 'Oboe', 'Viola', 'Cello', 'Flute', 'Harp'];
const TOPICS = ['the users table', 'the billing retries', 'the login form', 'the search index', 'the CI workflow', 'the API docs'];

/** A handoff.md of `n` turns as the Conductor writes them: a few sentences, two files, tokens. */
function handoffLog(n: number): string {
  const entries: string[] = [];
  for (let i = 0; i < n; i++) {
    const nick = NICKS[i % NICKS.length]!;
    const topic = TOPICS[(i * 7) % TOPICS.length]!;
    entries.push(
      formatHandoffEntry({
        nickname: nick,
        instrument: `ensemble${i % 3}/${nick.toLowerCase()}`,
        model: MODEL,
        tokens: { input: 1000 + (i % 900), output: 200 + (i % 300) },
        files: [`src/${nick.toLowerCase()}/${i % 40}.ts`, `test/${nick.toLowerCase()}.test.ts`],
        at: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
        summary:
          `Turn ${i}: reworked ${topic} so that the module reads its settings once at start-up. ` +
          `The tests for ${topic} now cover the empty case and the error path; two flaky assertions were replaced. ` +
          `Left for later: the migration note in the docs, and a benchmark of the new code path under load.`,
      }),
    );
  }
  return `# Handoff Log\n\nEntries below this line.\n\n---\n\n${entries.join('\n')}`;
}

const TASK: WithOf<'instrument'> = { prompt: 'Add an index on users.email and update `src/tuba/1.ts` to use it.', context: {} };

export const bench: Bench = {
  title: 'context',
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const root = mkdtempSync(join(tmpdir(), 'symphony-bench-context-'));
    try {
      // 1. Prompt tokens per call as handoff.md grows, packed (all tiers) vs the whole log.
      mkdirSync(join(root, 'src', 'tuba'), { recursive: true });
      writeFileSync(join(root, 'src', 'tuba', '1.ts'), 'export const findUser = (email: string) => db.users.find({ email });\n');
      writeFileSync(join(root, 'production.md'), '## Constraints\n\n- Never commit secrets.\n- Migrations are reversible.\n');
      // The naive prompt: the same prompt with the whole log pasted in instead of its digest.
      const base = (await packPrompt(ctxOf(root), instrument(root), TASK, 'Handles schema and queries.')).tokens;
      for (const n of [10, 100, 1000, 10_000]) {
        const log = handoffLog(n);
        writeFileSync(join(root, 'handoff.md'), log);
        const started = performance.now();
        const packed = await packPrompt(ctxOf(root), instrument(root), TASK, 'Handles schema and queries.');
        const ms = performance.now() - started;
        const naive = base + countTokens(log, MODEL);
        figures.push({ name: `handoff ${n} entries: packed prompt`, value: packed.tokens, unit: 'tokens' });
        figures.push({ name: `handoff ${n} entries: naive prompt (with the whole log)`, value: naive, unit: 'tokens' });
        figures.push({ name: `handoff ${n} entries: naive / packed`, value: naive / packed.tokens, unit: '×', note: n === 1000 ? 'must be ≥ 10' : undefined });
        figures.push({ name: `handoff ${n} entries: packing time`, value: ms, unit: 'ms' });
        if (n === 10_000) {
          await compactHandoff(root, { keep: 20 });
          const compacted = await packPrompt(ctxOf(root), instrument(root), TASK, 'Handles schema and queries.');
          const size = countTokens(readFileSync(join(root, 'handoff.md'), 'utf8'), MODEL);
          figures.push({ name: `handoff 10000 entries compacted (keep 20): handoff.md`, value: size, unit: 'tokens' });
          figures.push({ name: `handoff 10000 entries compacted (keep 20): packed prompt`, value: compacted.tokens, unit: 'tokens' });
        }
      }
      rmSync(join(root, 'handoff.md'), { force: true });
      rmSync(join(root, 'handoff.archive.md'), { force: true });

      // 2. Packing time in a workspace of 5,000 files (~1.5 KB each, 50 folders) that the
      // instrument handles: walk, guard, read what could fit, tokenize, pack.
      const line = 'export function step(n: number): number { return n * 2 + 1; } // a line of ordinary code\n';
      for (let f = 0; f < 5000; f++) {
        const dir = join(root, 'src', `mod${f % 50}`);
        if (f < 50) mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `file${f}.ts`), `// file ${f}\n${line.repeat(16)}`);
      }
      const input: WithOf<'instrument'> = { prompt: 'Find the slowest function in `src/mod1/file1.ts`.', files: ['src/mod1/**'], context: {} };
      const times: number[] = [];
      let last;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        last = await packPrompt(ctxOf(root), instrument(root, ['src/**']), input, 'Handles schema and queries.');
        times.push(performance.now() - started);
      }
      figures.push({ name: '5,000-file workspace: packing time, first call', value: times[0]!, unit: 'ms' });
      figures.push({ name: '5,000-file workspace: packing time, next calls (mean)', value: (times[1]! + times[2]!) / 2, unit: 'ms' });
      figures.push({ name: '5,000-file workspace: prompt', value: last!.tokens, unit: 'tokens', note: `budget ${last!.budget}` });
      figures.push({ name: '5,000-file workspace: files whole / cut / left out', value: last!.included.length - 1, unit: `/ ${last!.cut.length} / ${last!.leftOut.length}` });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    return figures;
  },
};
