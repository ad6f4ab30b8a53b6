import * as assert from 'node:assert/strict';
import { diagnosticsOf, loadMelody, type MelodyContext } from '../../src/core/load/melody';
import { needsOf } from '../../src/core/model/melody';
import { brief, yaml } from './helpers';

const FILE = 'melodies/review.melody.yaml';
const context: MelodyContext = {
  instruments: new Set(['backend/reviewer', 'research/analyst']),
  ensemblesDir: 'ensembles/',
  melodyNames: new Set(['build', 'review']),
};

const check = (text: string, ctx: MelodyContext = context) => brief(diagnosticsOf(loadMelody(text, FILE, ctx)));

describe('loadMelody', () => {
  it('loads the DESIGN.md example with every key shown', () => {
    const text = yaml`
      name: code-review
      description: Lint and test on save, then review with a model
      triggers:
        - on: save            # save | commit | schedule | webhook | melody | manual
          paths: ["src/**/*.ts"]
          debounce: 500ms
        - on: schedule
          cron: "0 9 * * 1-5"
        - on: melody          # chained: runs after another melody
          melody: build
          when: success
      concurrency: { group: "review", cancel-in-progress: true }
      inputs:
        file: { type: string, default: "" }
      budget: { tokens: 20000, usd: 0.50 }
      permissions:
        fs: { read: ["src/**"], write: ["reports/**"] }
        commands: [npm, npx, node, git]
        network: ["127.0.0.1"]
      nodes:
        lint:
          uses: shell
          with: { command: npx, args: [eslint, "\${{ inputs.file }}"] }
          continue-on-error: true          # the "skip" strategy
        test:
          uses: shell
          with: { command: npm, args: [test] }
          retry: { max: 3, backoff: exponential, delay: 1s }
          timeout: 5m
        review:
          uses: instrument
          instrument: backend/reviewer     # ensemble/instrument
          fallback: [research/analyst]     # priority list when the model fails
          needs: [lint, test]
          if: \${{ nodes.test.status == 'success' }}
          with:
            prompt: "Review \${{ inputs.file }}. Lint: \${{ nodes.lint.output.stdout }}"
          outputs: { type: object, required: [verdict] }   # JSON Schema; output is validated
        fix:
          uses: melody                     # sub-melody
          with: { melody: melodies/fix.melody.yaml }
          needs: [review]
          if: \${{ nodes.review.output.verdict != 'ok' }}
          loop: { until: "\${{ nodes.fix.output.ok }}", max: 3 }
        revert:                            # only runs as the compensation below
          uses: shell
          with: { command: git, args: [checkout, "--", "reports"] }
      on-failure: { notify: true, compensate: revert }   # halt & notify; compensate = a node id
      board: { positions: { lint: [0, 0], test: [0, 120] } }  # optional; written by the Harmony Board
    `;
    const r = loadMelody(text, FILE, context);
    assert.deepEqual(brief(diagnosticsOf(r)), []);
    assert.ok(r.ok);
    const m = r.value.melody;
    assert.equal(m.name, 'code-review');
    assert.deepEqual(Object.keys(m.nodes), ['lint', 'test', 'review', 'fix', 'revert']);
    assert.deepEqual(needsOf(m.nodes.review!), ['lint', 'test']);
    assert.equal(m.nodes.test!.retry?.backoff, 'exponential');
    assert.equal(m.triggers?.[2]?.on, 'melody');
    assert.equal(m['on-failure']?.compensate, 'revert');
    assert.deepEqual(m.board?.positions?.test, [0, 120]);
  });

  it('reports a YAML syntax error at its position', () => {
    const text = yaml`
      name: x
      nodes:
        a: { uses: shell, with: { command: ls }
        b: 1
    `;
    const [first, ...rest] = check(text);
    assert.match(first!, /^4:3 yaml-syntax YAML: /);
    assert.ok(rest.every((d) => d.includes('yaml-syntax')));
  });

  it('reports duplicate keys, which YAML forbids', () => {
    assert.deepEqual(check('name: a\nname: b\nnodes: { x: { uses: notify, with: { message: hi } } }\n'), [
      '2:1 yaml-syntax YAML: Map keys must be unique',
    ]);
  });

  it('points a misspelt key at the key and suggests the right one', () => {
    const text = yaml`
      name: x
      nodes:
        a:
          uses: notify
          with: { message: hi }
        b:
          uses: notify
          need: [a]
          with: { message: hi }
    `;
    assert.deepEqual(check(text), ['8:5 unknown-key unknown key `need` in `nodes.b`; did you mean `needs`?']);
  });

  it('points a wrong value type at the value', () => {
    const text = yaml`
      name: x
      nodes:
        t:
          uses: shell
          with: { command: npm, args: test }
          retry: { max: "3" }
      permissions: { commands: [npm] }
    `;
    assert.deepEqual(check(text), [
      '5:33 schema `nodes.t.with.args` must be a list, not text "test"',
      '6:19 schema `nodes.t.retry.max` must be a number, not text "3"',
    ]);
  });

  it('reports a missing required key at the map that lacks it', () => {
    const text = yaml`
      name: x
      nodes:
        t:
          uses: shell
          with: { args: [a] }
    `;
    assert.deepEqual(check(text), ['5:5 schema `nodes.t.with.command` is required (text)']);
  });

  it('requires name and nodes', () => {
    assert.deepEqual(check('description: nothing else\n'), [
      '1:1 schema `name` is required (text)',
      '1:1 schema `nodes` is required (a map of keys to values)',
    ]);
  });

  it('rejects an empty file and a non-map document', () => {
    assert.deepEqual(check(''), ['1:1 empty the file is empty: a melody needs at least `name:` and `nodes:`']);
    assert.deepEqual(check('- a\n- b\n'), ['1:1 schema expected a map of keys to values: a melody needs at least `name:` and `nodes:`']);
  });

  it('names unknown needs and suggests the closest node', () => {
    const text = yaml`
      name: x
      nodes:
        lint: { uses: notify, with: { message: a } }
        test: { uses: notify, with: { message: b } }
        review:
          uses: notify
          needs: [lint, tset]
          with: { message: c }
        other:
          uses: notify
          needs: zzz
          with: { message: d }
    `;
    assert.deepEqual(check(text), [
      '7:19 unknown-need needs `tset` is not a node of this melody; did you mean `test`?',
      '11:12 unknown-need needs `zzz` is not a node of this melody; its nodes are: lint, test, review, other',
    ]);
  });

  it('names every node on a cycle, at each of their needs', () => {
    const text = yaml`
      name: x
      nodes:
        a: { uses: notify, needs: [c], with: { message: a } }
        b: { uses: notify, needs: [a], with: { message: b } }
        c: { uses: notify, needs: [start, b], with: { message: c } }
        start: { uses: notify, with: { message: s } }
    `;
    const cycle = 'cycle: a → c → b → a — these nodes wait for each other and could never start; remove one of these needs';
    assert.deepEqual(check(text), [`3:30 cycle ${cycle}`, `4:30 cycle ${cycle}`, `5:37 cycle ${cycle}`]);
  });

  it('reports a node that needs itself', () => {
    assert.deepEqual(check('name: x\nnodes:\n  a: { uses: notify, needs: a, with: { message: a } }\n'), [
      '3:29 cycle node `a` needs itself; remove `a` from its needs',
    ]);
  });

  it('reports unknown node kinds with a suggestion', () => {
    assert.deepEqual(check('name: x\nnodes:\n  a: { uses: shel, with: { command: ls } }\n'), [
      '3:14 unknown-kind unknown node kind `shel`; did you mean `shell`?',
    ]);
    assert.match(check('name: x\nnodes:\n  a: { uses: teleport }\n')[0]!, /^3:14 unknown-kind unknown node kind `teleport`; use one of: shell, instrument, /);
  });

  it('reports unknown instruments, in `instrument` and in `fallback`', () => {
    const text = yaml`
      name: x
      nodes:
        r:
          uses: instrument
          instrument: backend/reviwer
          fallback: [research/analyst, qa/nobody]
          with: { prompt: hi }
    `;
    assert.deepEqual(check(text), [
      '5:17 unknown-instrument unknown instrument `backend/reviwer`: there is no backend/reviwer.yaml in ensembles/; did you mean `backend/reviewer`?',
      '6:34 unknown-instrument unknown instrument `qa/nobody`: there is no qa/nobody.yaml in ensembles/; known instruments: backend/reviewer, research/analyst',
    ]);
  });

  it('requires an instrument for `uses: instrument` and refuses it elsewhere', () => {
    assert.deepEqual(check('name: x\nnodes:\n  r: { uses: instrument, with: { prompt: hi } }\n'), [
      '3:14 schema node `r` uses an instrument but does not say which: add `instrument: ensemble/name`',
    ]);
    assert.deepEqual(check('name: x\nnodes:\n  r: { uses: shell, instrument: backend/reviewer, with: { command: ls } }\npermissions: { commands: [ls] }\n'), [
      '3:21 schema `instrument` only applies to nodes that use instrument, summarize or assignment, not `shell`',
    ]);
  });

  it('reports malformed expressions at the character where parsing stopped', () => {
    const text = yaml`
      name: x
      inputs:
        file: { type: string }
      nodes:
        a:
          uses: notify
          if: nodes.a.status ==
          with: { message: "ok \${{ 1 + }} and \${{ inputs.file }}" }
    `;
    assert.deepEqual(check(text), [
      '7:26 expression invalid expression `nodes.a.status ==`: Unexpected token: EOF',
      '8:33 expression invalid expression `1 +`: Unexpected token: EOF',
    ]);
  });

  it('reports an unclosed ${{', () => {
    assert.deepEqual(check('name: x\nnodes:\n  a: { uses: notify, with: { message: "hi ${{ inputs.x" } }\n'), [
      '3:43 expression expression `${{` is not closed: add `}}`',
    ]);
  });

  it('reports expressions that refer to unknown nodes or undeclared inputs', () => {
    const text = yaml`
      name: x
      inputs:
        file: { type: string }
      nodes:
        lint: { uses: notify, with: { message: a } }
        b:
          uses: notify
          with: { message: "\${{ nodes.lnt.output }} \${{ inputs.fle }} \${{ nodes['lint'].status }}" }
    `;
    assert.deepEqual(check(text), [
      '8:27 unknown-node-ref expression refers to node `lnt`, which is not in this melody; did you mean `lint`?',
      '8:51 unknown-input expression uses input `fle`, which is not declared; did you mean `file`?',
    ]);
  });

  it('reports an expression the data does not hold where the YAML shows it (a key made the same as another, a merge)', () => {
    // `1` and "1" become one key of the data, and a merge moves keys up a level: the value
    // at fault is still found, and pointed at where the file has it.
    const collapsed = 'name: x\nnodes:\n  a: { uses: transform, with: { value: { 1: "${{ nodes.nope.output }}", "1": fine } } }\n';
    assert.deepEqual(check(collapsed), ['3:50 unknown-node-ref expression refers to node `nope`, which is not in this melody']);
    const merged = '%YAML 1.1\n---\nname: x\n<<: { board: { note: "${{ nodes.nope.output }}" } }\nnodes:\n  a: { uses: transform, with: { value: 1 } }\n';
    assert.ok(check(merged).includes('4:27 unknown-node-ref expression refers to node `nope`, which is not in this melody'), check(merged).join('\n'));
  });

  it('does not mistake text inside string literals for references', () => {
    const text = 'name: x\nnodes:\n  a: { uses: transform, with: { value: "${{ \'nodes.nope and inputs.nope\' }}" } }\n';
    assert.deepEqual(check(text), []);
  });

  it('checks the compensation node', () => {
    const text = yaml`
      name: x
      nodes:
        a: { uses: notify, needs: [undo], with: { message: a } }
        undo: { uses: notify, needs: [a], with: { message: u } }
      on-failure: { compensate: undo }
    `;
    assert.deepEqual(check(text), [
      '3:30 compensate `undo` is the compensation node (on-failure.compensate): it runs only when the run fails, so no node can need it',
      '4:25 compensate `undo` is the compensation node: it runs once after the run fails, so its `needs` are ignored',
    ]);
    assert.deepEqual(check('name: x\nnodes:\n  a: { uses: notify, with: { message: a } }\non-failure: { compensate: udno }\n'), [
      '4:27 unknown-need compensation node `udno` is not a node of this melody; its nodes are: a',
    ]);
  });

  it('validates cron schedules and chained melody names', () => {
    const text = yaml`
      name: x
      triggers:
        - on: schedule
          cron: "61 * * * *"
        - on: melody
          melody: biuld
      nodes:
        a: { uses: notify, with: { message: a } }
    `;
    assert.deepEqual(check(text), [
      '4:11 cron invalid cron schedule "61 * * * *": CronPattern: Invalid value for minute: 61',
      '6:13 schema no melody named `biuld` in this workspace; did you mean `build`?',
    ]);
    const r = loadMelody(text.replace('61', '0'), FILE, context);
    assert.ok(r.ok, 'an unknown chained melody is a warning, not an error');
  });

  it('reports an unknown trigger kind with the list of kinds', () => {
    assert.deepEqual(check('name: x\ntriggers: [{ on: sav }]\nnodes:\n  a: { uses: notify, with: { message: a } }\n'), [
      '2:18 schema `triggers[0].on`: unknown value "sav"; use one of: save, commit, schedule, webhook, melody, manual (did you mean "save"?)',
    ]);
  });

  it('reports programs the melody does not allow, before anything runs', () => {
    const text = yaml`
      name: x
      permissions: { commands: [node] }
      nodes:
        lint: { uses: shell, with: { command: npx, args: [eslint] } }
        ok: { uses: shell, with: { command: node } }
        save: { uses: git-commit, with: { message: m } }
        dynamic: { uses: shell, with: { command: "\${{ 'node' }}" } }
    `;
    assert.deepEqual(check(text), [
      '4:41 permission node `lint` runs `npx`, which this melody does not allow: add it to `permissions.commands` (now: node)',
      '6:17 permission node `save` runs `git`, which this melody does not allow: add it to `permissions.commands` (now: node)',
    ]);
    assert.deepEqual(check('name: x\nnodes:\n  a: { uses: shell, with: { command: ls } }\n'), [
      '3:38 permission node `a` runs `ls`, which this melody does not allow: add `permissions: { commands: [ls] }` to the melody',
    ]);
  });

  it('reports bad durations', () => {
    assert.deepEqual(check('name: x\nnodes:\n  a: { uses: notify, timeout: 5 minutes, with: { message: a } }\n'), [
      '3:31 schema `nodes.a.timeout`: expected a duration such as "500ms", "30s", "5m" or "1h"',
    ]);
  });

  it('keeps a `__proto__` key as data, written as a key or given by an alias', () => {
    // The loader looks for such keys only when the YAML has one, or an alias key that may be one.
    for (const env of ['{ __proto__: "1" }', '{ *k : "1" }']) {
      const r = loadMelody(`name: m\ndescription: &k __proto__\nnodes:\n  a: { uses: transform, with: { value: 1 }, env: ${env} }\n`, FILE, context);
      assert.ok(r.ok, JSON.stringify(diagnosticsOf(r)));
      const got = r.value.melody.nodes.a!.env!;
      assert.ok(Object.hasOwn(got, '__proto__'), env);
      assert.equal(got['__proto__'], '1');
      assert.equal(Object.getPrototypeOf(got), Object.prototype);
    }
  });

  it('skips instrument checks when the workspace is unknown', () => {
    const text = 'name: x\nnodes:\n  r: { uses: instrument, instrument: any/thing, with: { prompt: hi } }\n';
    assert.deepEqual(check(text, {}), []);
  });

  it('returns every problem at once, sorted by position', () => {
    const text = yaml`
      name: x
      nodes:
        a: { uses: shel }
        b: { uses: notify, needs: [q], with: { mesage: hi } }
    `;
    const lines = check(text).map((l) => l.split(' ')[0]);
    assert.deepEqual(lines, ['3:14', '4:30', '4:34', '4:42']);
  });
});
