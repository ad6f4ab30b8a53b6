import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { jsonErrorOffset } from '../../src/core/load/jsonFile';
import { scanText } from '../../src/core/deviations/markers';
import { guessModule } from '../../src/core/deviations/module';
import { unionRecords } from '../../src/core/deviations/mergePlan';
import {
  deviationsPath,
  linkMarkers,
  loadDeviations,
  locationOf,
  recordDeviation,
  resolveDeviation,
  type NewDeviation,
} from '../../src/core/deviations/records';
import type { DeviationRecord } from '../../src/core/model/deviation';
import { tempDir } from './helpers';

const INPUT: NewDeviation = {
  agent: 'Tuba',
  module: 'auth',
  severity: 'fundamental',
  expected: 'REST',
  discovered: 'the partner only speaks SOAP',
  action: 'wrapped it',
  reasoning: 'no alternative',
  impact: 'an adapter layer',
};

function corrupt(root: string, text: string): void {
  mkdirSync(join(root, '.symphony'), { recursive: true });
  writeFileSync(deviationsPath(root), text);
}

describe('deviation records', () => {
  it('records all eight fields with an id, status and timestamps, creating the file', async () => {
    const root = tempDir();
    const r = await recordDeviation(root, INPUT, new Date('2026-11-22T10:00:00.000Z'));
    assert.ok(r.ok);
    assert.match(r.value.id, /^dev-[0-9a-f]{8}$/);
    const file = JSON.parse(readFileSync(deviationsPath(root), 'utf8')) as { version: number; deviations: DeviationRecord[] };
    assert.equal(file.version, 1);
    assert.deepEqual(file.deviations, [
      { id: r.value.id, ...INPUT, status: 'open', createdAt: '2026-11-22T10:00:00.000Z', updatedAt: '2026-11-22T10:00:00.000Z', markers: [] },
    ]);
  });

  it('loses no record when many are made at once', async () => {
    const root = tempDir();
    const all = await Promise.all(Array.from({ length: 25 }, (_, i) => recordDeviation(root, { ...INPUT, discovered: `finding ${i}` })));
    assert.ok(all.every((r) => r.ok));
    const loaded = await loadDeviations(root);
    assert.ok(loaded.ok);
    assert.equal(loaded.value.length, 25);
    assert.equal(new Set(loaded.value.map((r) => r.id)).size, 25);
  });

  it('reports a file that is not JSON at its position, and never writes over it', async () => {
    const root = tempDir();
    const text = '{\n  "version": 1,\n  "deviations": [,]\n}\n';
    corrupt(root, text);
    const r = await recordDeviation(root, INPUT);
    assert.ok(!r.ok);
    assert.ok(r.error.reason === 'corrupt');
    assert.deepEqual(r.error.diagnostics.map((d) => `${d.file}:${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`), [`${deviationsPath(root)}:3:18 json-syntax JSON: Unexpected token ','`]);
    assert.match(r.error.diagnostics[0]!.message, /^JSON: /);
    assert.equal(readFileSync(deviationsPath(root), 'utf8'), text);
  });

  it('reports a record that breaks the schema at the offending value, and never writes over it', async () => {
    const root = tempDir();
    const text = JSON.stringify({ version: 1, deviations: [{ id: 'dev-1', agent: 'x', module: 'm', severity: 'huge' }] }, null, 2);
    corrupt(root, text);
    const r = await resolveDeviation(root, 'dev-1');
    assert.ok(!r.ok && r.error.reason === 'corrupt');
    const lines = r.error.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.message}`);
    assert.ok(lines.includes('8:19 `deviations[0].severity` must be one of "minor", "major", "fundamental"'), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('`deviations[0].expected` is required')), lines.join('\n'));
    assert.equal(readFileSync(deviationsPath(root), 'utf8'), text);
  });

  it('refuses an invalid record and an unknown id with a sentence', async () => {
    const root = tempDir();
    const bad = await recordDeviation(root, { ...INPUT, agent: '' });
    assert.ok(!bad.ok && bad.error.reason === 'invalid');
    assert.match(bad.error.message, /^not a valid deviation: agent: /);
    const unknown = await resolveDeviation(root, 'dev-nope');
    assert.ok(!unknown.ok && unknown.error.reason === 'unknown-id');
    assert.equal(unknown.error.message, 'there is no deviation dev-nope in .symphony/DEVIATIONS.json');
  });

  it('resolves a record once, keeping when it was first resolved', async () => {
    const root = tempDir();
    const made = await recordDeviation(root, INPUT, new Date('2026-01-01T00:00:00.000Z'));
    assert.ok(made.ok);
    const first = await resolveDeviation(root, made.value.id, new Date('2026-01-02T00:00:00.000Z'));
    const again = await resolveDeviation(root, made.value.id, new Date('2026-01-03T00:00:00.000Z'));
    assert.ok(first.ok && again.ok);
    assert.equal(again.value.status, 'resolved');
    assert.equal(again.value.resolvedAt, '2026-01-02T00:00:00.000Z');
    assert.equal(again.value.updatedAt, '2026-01-03T00:00:00.000Z');
  });

  describe('linking markers to records', () => {
    const record = (over: Partial<DeviationRecord>): DeviationRecord => ({
      id: 'dev-1',
      ...INPUT,
      severity: 'major',
      status: 'open',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      markers: [],
      ...over,
    });
    const at = (file: string, text: string) => scanText(text).map((marker) => ({ file, marker }));

    it('follows a marker by its message when edits move it', () => {
      const [recorded] = at('a.ts', '// ARCHITECTURAL_MISMATCH: sync API');
      const r = record({ markers: [locationOf('a.ts', recorded!.marker)] });
      const moved = at('a.ts', 'x\ny\n// ARCHITECTURAL_MISMATCH: other\n// ARCHITECTURAL_MISMATCH: sync API');
      const links = linkMarkers([r], moved);
      assert.equal(links.recordOf.get(moved[1]!.marker)?.id, 'dev-1');
      assert.equal(links.recordOf.get(moved[0]!.marker), undefined, 'the other marker is unrecorded');
      assert.deepEqual(links.markersOf.get('dev-1')!.map((m) => m.marker.line), [4]);
    });

    it('falls back to the recorded line when the message was reworded, and to nothing when it is gone', () => {
      const r = record({ markers: [{ file: 'a.ts', line: 2, text: 'old words' }] });
      const reworded = at('a.ts', 'x\n// ARCHITECTURAL_MISMATCH: new words');
      assert.equal(linkMarkers([r], reworded).recordOf.get(reworded[0]!.marker)?.id, 'dev-1');
      const otherSeverity = at('a.ts', 'x\n// DEVIATION_MINOR: new words');
      assert.equal(linkMarkers([r], otherSeverity).recordOf.size, 0);
      assert.deepEqual(linkMarkers([r], []).markersOf.get('dev-1'), []);
    });
  });

  it('unites two versions of the records, the last update winning', () => {
    const base = { ...INPUT, status: 'open' as const, createdAt: '2026-01-01T00:00:00.000Z', markers: [] };
    const ours = [{ ...base, id: 'a', updatedAt: '2026-01-02T00:00:00.000Z' }, { ...base, id: 'b', updatedAt: '2026-01-01T00:00:00.000Z' }];
    const theirs = [{ ...base, id: 'b', updatedAt: '2026-01-03T00:00:00.000Z', status: 'resolved' as const }, { ...base, id: 'c', updatedAt: '2026-01-01T00:00:00.000Z' }];
    assert.deepEqual(unionRecords(ours, theirs).map((r) => `${r.id} ${r.status}`), ['a open', 'b resolved', 'c open']);
  });

  describe('JSON error positions', () => {
    it('points at the first character that breaks the syntax', () => {
      const cases: [string, number][] = [
        ['[,]', 1],
        ['{"a" 1}', 5],
        ['{"a": 1,}', 8],
        ['[1 2]', 3],
        ['{"a": tru}', 6],
        ['"tab\there"', 4],
        ['{"a": 1', 7],
        ['[1] x', 4],
        ['{"a": "\\q"}', 8],
        ['{"a": }', 6],
        ['[1, 2,]', 6],
        ['[01]', 2],
        ['', 0],
      ];
      for (const [text, offset] of cases) assert.equal(jsonErrorOffset(text), offset, text);
    });

    it('finds no error in valid JSON (property)', () => {
      fc.assert(fc.property(fc.json(), (text) => jsonErrorOffset(text) === undefined));
    });
  });
});

describe('guessing the module of a marker', () => {
  it('takes the chamber scope first, then the folder under src/, then the top folder', () => {
    const chamber = { id: 'c', module: 'payments', scope: ['src/billing/**'], branch: 'symphony/c', path: '', base: '', createdAt: '' };
    assert.equal(guessModule('src/billing/invoice.ts', [chamber]), 'payments');
    assert.equal(guessModule('src/auth/login.ts', [chamber]), 'auth');
    assert.equal(guessModule('packages/ui/src/x.ts'), 'ui');
    assert.equal(guessModule('docs/intro.md'), 'docs');
    assert.equal(guessModule('src/index.ts'), 'src');
    assert.equal(guessModule('README.md'), undefined);
  });
});
