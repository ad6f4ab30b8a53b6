import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { MIN_CUT, NO_ROOM, pack, tokenCounter, type PackSection, type Packed, type Tier } from '../../src/core/context/pack';
import { countTokens } from '../../src/core/providers/tokens';

const WORDS = ['the', 'schema', 'migrates', 'users', 'table', 'export', 'const', '=', '{', '}', '(', ')', ';', 'función', '数据库', '🎵', 'retry', 'budget', '42', '3.14', '`code`', '#', '---', '```', '    '];

/** Text of roughly `words` words, with line breaks, drawn from a mixed vocabulary. */
const textOf = (maxWords: number) =>
  fc.array(fc.tuple(fc.constantFrom(...WORDS), fc.constantFrom(' ', ' ', ' ', '\n', '\n\n', ', ')), { maxLength: maxWords, size: 'max' }).map((parts) => parts.map(([w, s]) => w + s).join(''));

/** Sections with unique titles; each text starts with its own marker so presence is unambiguous. */
const sectionsArb = (mustWords: number, otherWords: number) =>
  fc
    .tuple(
      fc.array(textOf(mustWords), { minLength: 1, maxLength: 3 }),
      fc.array(fc.record({ tier: fc.constantFrom<Tier>('should', 'reference'), text: textOf(otherWords), priority: fc.option(fc.integer({ min: -2, max: 2 }), { nil: undefined }), code: fc.boolean() }), { maxLength: 12 }),
    )
    .map(([must, optional]) => [
      ...must.map((text, i): PackSection => ({ tier: 'must', title: `Must ${i}`, text: `«must-${i}» ${text}` })),
      ...optional.map((s, i): PackSection => ({ tier: s.tier, title: `Section ${i}`, text: `«opt-${i}» ${s.text}`, ...(s.priority !== undefined ? { priority: s.priority } : {}), code: s.code })),
    ]);

/** Separators that vary with the section, so texts differ. */
const k3 = (i: number) => [' ', '\n', ', ', ' '][i % 4]!;

function packed(sections: readonly PackSection[], budget: number): Packed {
  const r = pack(sections, { budget });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

describe('context packing: properties', function () {
  // Tokenizing tens of kilobytes per run: generous on a loaded two-core machine.
  this.timeout(240_000);

  it('keeps MUST READ whole and verbatim, stays within the budget, and fails only when MUST READ cannot fit', () => {
    fc.assert(
      fc.property(sectionsArb(400, 1500), fc.integer({ min: 50, max: 6000 }), (sections, budget) => {
        const r = pack(sections, { budget });
        const must = sections.filter((s) => s.tier === 'must');
        if (!r.ok) {
          assert.equal(r.error.kind, 'must-read-too-large');
          assert.ok(r.error.needed > budget);
          assert.equal(r.error.budget, budget);
          // What it says it needs is enough.
          assert.ok(pack(sections, { budget: r.error.needed }).ok);
          return;
        }
        for (const s of must) assert.ok(r.value.text.includes(s.text), `${s.title} is missing`);
        assert.equal(r.value.tokens, countTokens(r.value.text));
        assert.ok(r.value.tokens <= budget, `${r.value.tokens} > ${budget}`);
      }),
      { numRuns: 60, seed: 4242 },
    );
  });

  it('fills the budget to within 1% when there is more optional text than room', () => {
    const big = fc.tuple(sectionsArb(200, 0), fc.array(fc.tuple(fc.constantFrom<Tier>('should', 'reference'), fc.integer({ min: 300, max: 3000 }), fc.boolean()), { minLength: 3, maxLength: 10 }), fc.double({ min: 0.2, max: 0.85, noNaN: true }));
    fc.assert(
      fc.property(big, ([must, optional, fraction]) => {
        const sections: PackSection[] = [
          ...must.filter((s) => s.tier === 'must'),
          ...optional.map(([tier, n, code], i): PackSection => ({ tier, title: `Big ${i}`, text: `«big-${i}» ${Array.from({ length: n }, (_, k) => WORDS[(k * 7 + i) % WORDS.length]).join(k3(i))}`, code })),
        ];
        const total = sections.reduce((n, s) => n + countTokens(s.text), 0);
        const budget = Math.floor(total * fraction);
        fc.pre(budget >= 10_000);
        const p = packed(sections, budget);
        assert.ok(p.tokens <= budget && p.tokens >= budget * 0.99, `${p.tokens} tokens of ${budget}`);
      }),
      { numRuns: 25, seed: 7 },
    );
  });

  it('is deterministic, and names exactly the sections not present whole', () => {
    const seen = { cut: 0, left: 0 };
    fc.assert(
      fc.property(sectionsArb(100, 1500), fc.integer({ min: 300, max: 8000 }), (sections, budget) => {
        const r1 = pack(sections, { budget });
        const r2 = pack([...sections], { budget });
        assert.deepEqual(r1, r2);
        if (!r1.ok) return;
        const p = r1.value;
        const cut = new Set(p.cut.map((c) => c.title));
        const left = new Set(p.leftOut.map((l) => l.title));
        const whole = new Set(p.included);
        assert.equal(whole.size + cut.size + left.size, sections.length, 'each section is in exactly one list');
        for (const s of sections) {
          const present = p.text.includes(s.text);
          if (whole.has(s.title)) assert.ok(present, `${s.title} is listed as included but is not there`);
          else {
            assert.ok(!present, `${s.title} is there whole but listed as ${cut.has(s.title) ? 'cut' : 'left out'}`);
            assert.ok(cut.has(s.title) || left.has(s.title));
            if (left.has(s.title)) assert.ok(!p.text.includes(`### ${s.title}\n`), `${s.title} is left out but has a heading`);
          }
        }
        for (const l of p.leftOut) assert.equal(l.reason, NO_ROOM);
        seen.cut += cut.size ? 1 : 0;
        seen.left += left.size ? 1 : 0;
        if (cut.size || left.size) assert.match(p.text, /\n## LEFT OUT\n/);
      }),
      { numRuns: 60, seed: 99 },
    );
    // The runs did exercise cutting and leaving out.
    assert.ok(seen.cut > 5 && seen.left > 5, JSON.stringify(seen));
  });
});

describe('context packing', () => {
  const task: PackSection = { tier: 'must', title: 'Task', text: 'Fix the failing test.' };
  const words = (n: number, word = 'alpha') => `${word} `.repeat(n).trim();

  it('sends a lone MUST READ section as its bare text', () => {
    assert.deepEqual(packed([task], 100), { text: 'Fix the failing test.', tokens: countTokens('Fix the failing test.'), budget: 100, included: ['Task'], cut: [], leftOut: [] });
  });

  it('refuses when MUST READ alone does not fit, saying how much it needs', () => {
    const r = pack([{ ...task, text: words(500) }], { budget: 100 });
    assert.ok(!r.ok);
    assert.deepEqual(r.error, { kind: 'must-read-too-large', needed: countTokens(words(500)), budget: 100, message: `MUST READ needs ${countTokens(words(500))} tokens and the budget is 100` });
  });

  it('lays out tiers in order, sections by priority then given order', () => {
    const p = packed(
      [
        { tier: 'reference', title: 'R', text: 'r' },
        { tier: 'should', title: 'S1', text: 's1' },
        { tier: 'should', title: 'S2', text: 's2', priority: 1 },
        task,
        { tier: 'must', title: 'Rules', text: 'No secrets.' },
      ],
      1000,
    );
    assert.equal(
      p.text,
      ['## MUST READ', '### Task', 'Fix the failing test.', '### Rules', 'No secrets.', '## SHOULD KNOW', '### S2', 's2', '### S1', 's1', '## REFERENCE IF NEEDED', '### R', 'r'].join('\n\n'),
    );
    assert.deepEqual(p.included, ['Task', 'Rules', 'S2', 'S1', 'R']);
  });

  it('cuts a section that does not fit on a token boundary, marks it, and lists it at the end', () => {
    const counter = tokenCounter();
    const long = words(3000, 'beta');
    const p = packed([task, { tier: 'should', title: 'Log', text: long }, { tier: 'reference', title: 'Old', text: 'gamma' }], 1000);
    assert.equal(p.cut.length, 1);
    const [cut] = p.cut;
    assert.equal(cut!.title, 'Log');
    assert.equal(cut!.of, counter.count(long));
    const kept = counter.truncate(long, cut!.kept);
    assert.ok(p.text.includes(`### Log\n\n${kept}\n\n[cut: ${cut!.kept} of ${cut!.of} tokens]\n\n## LEFT OUT`));
    assert.match(p.text, /\n- Log \(cut: \d+ of 3000 tokens\)\n- Old$/);
    assert.deepEqual(p.leftOut, [{ title: 'Old', reason: NO_ROOM }]);
    assert.ok(p.tokens <= 1000 && p.tokens >= 990, String(p.tokens));
  });

  it('leaves a section out rather than cutting it to less than the least useful cut, and still packs smaller ones after it', () => {
    const sections: PackSection[] = [task, { tier: 'should', title: 'Big', text: words(500) }, { tier: 'should', title: 'Tiny', text: 'ok' }];
    const cut = packed(sections, 300);
    assert.deepEqual([cut.included, cut.cut.map((c) => c.title)], [['Task'], ['Big']]);
    const r = pack(sections, { budget: 300, minCut: 1000 });
    assert.ok(r.ok);
    assert.deepEqual([r.value.included, r.value.cut, r.value.leftOut], [['Task', 'Tiny'], [], [{ title: 'Big', reason: NO_ROOM }]]);
    assert.equal(MIN_CUT, 64);
  });

  it("lists the caller's omissions with their reasons", () => {
    const p = packed([task, { tier: 'should', title: 'a.ts', text: 'x', code: true }], 1000, );
    assert.ok(!p.text.includes('LEFT OUT'));
    const r = pack([task], { budget: 1000, omitted: [{ title: 'b.bin', reason: 'binary' }] });
    assert.ok(r.ok);
    assert.match(r.value.text, /## LEFT OUT\n\n.*\n- b\.bin: binary$/);
    assert.deepEqual(r.value.leftOut, [{ title: 'b.bin', reason: 'binary' }]);
  });

  it('fences code with a fence longer than any inside it', () => {
    const p = packed([task, { tier: 'should', title: 'doc.md', text: 'Use:\n```sh\nnpm test\n```\n', code: true }], 1000);
    assert.ok(p.text.includes('### doc.md\n\n````\nUse:\n```sh\nnpm test\n```\n````'));
  });

  it('names what it can of thousands of left-out sections and counts the rest, within the budget', function () {
    this.timeout(60_000);
    const many = Array.from({ length: 5000 }, (_, i): PackSection => ({ tier: 'reference', title: `src/module${i}.ts`, text: words(200, `m${i}`) }));
    const p = packed([task, ...many], 4000);
    assert.ok(p.tokens <= 4000);
    assert.equal(p.included.length + p.cut.length + p.leftOut.length, 5001);
    const named = p.text.split('\n').filter((l) => /^- src\/module\d+\.ts$/.test(l)).length;
    assert.ok(named > 10 && named < p.leftOut.length, `${named} named`);
    assert.match(p.text, new RegExp(`\\n- …and ${p.leftOut.length - named} more$`));
  });

  it('measures the final text rather than adding up parts', () => {
    // A counter whose counts of parts do not add up: every text costs one token more than its words.
    const counter = { count: (t: string) => (t ? t.split(/\s+/).filter(Boolean).length + 1 : 0), truncate: (t: string, n: number) => t.split(' ').slice(0, Math.max(0, n - 1)).join(' ') };
    const sections: PackSection[] = [task, ...Array.from({ length: 30 }, (_, i): PackSection => ({ tier: 'should', title: `S${i}`, text: words(40, `w${i}`) }))];
    for (const budget of [100, 333, 700, 1200]) {
      const r = pack(sections, { budget, counter });
      assert.ok(r.ok);
      assert.equal(r.value.tokens, counter.count(r.value.text));
      assert.ok(r.value.tokens <= budget, `${r.value.tokens} > ${budget}`);
    }
    // Joins cost far more than the parts suggest: still within the budget, and still packed.
    const joins = { ...counter, count: (t: string) => counter.count(t) + 3 * (t.match(/\n\n/g)?.length ?? 0) };
    const r = pack(sections, { budget: 900, counter: joins });
    assert.ok(r.ok && r.value.tokens <= 900 && r.value.included.length > 5, r.ok ? `${r.value.tokens}, ${r.value.included.length}` : '');
  });
});
