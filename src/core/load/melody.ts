import { Cron } from 'croner';
import { celSyntaxError, conditionSource, findTemplateParts, referencedInputs, referencedNodes } from '../expr/template';
import { findCycles } from '../engine/graph';
import { compareDiagnostics, hasErrors, type Diagnostic } from '../model/diagnostic';
import { melodyShapeSchema, needsOf, type Melody, type NodeSpec } from '../model/melody';
import { nameRecord, safeParseNames } from '../model/names';
import { isNodeKind, KINDS_WITH_INSTRUMENT, NODE_KIND_NAMES, NODE_KINDS } from '../model/nodeKinds';
import { unservedNodes } from '../providers/readiness';
import { err, ok, type Result } from '../model/result';
import { isGuardedVariable } from '../programs/environment';
import { schemaDiagnostics } from './schemaIssues';
import { closest } from './suggest';
import { count, MAX_MELODY_NODES } from './limits';
import { internalError, parseYamlMap, type YamlData } from './yamlData';
import type { YamlPath, YamlSource } from './yamlSource';

/** What the loader knows about the workspace around a melody. */
export interface MelodyContext {
  /**
   * Known instruments as `ensemble/instrument`. When undefined, instrument references are
   * not checked (e.g. a melody validated on its own, outside any workspace).
   */
  readonly instruments?: ReadonlySet<string>;
  /** The folder searched for ensembles, named in "unknown instrument" messages. */
  readonly ensemblesDir?: string;
  /** Names of the workspace's melodies, for `on: melody` triggers. */
  readonly melodyNames?: ReadonlySet<string>;
  /**
   * The platform melodies will run on. On Windows, which has no sandbox for programs, a
   * melody that runs programs must say `permissions.sandbox: off`. Unchecked when undefined.
   */
  readonly platform?: NodeJS.Platform;
  /**
   * Model instruments that are not set up here, and why (`providers/readiness.ts`): a node
   * whose instrument and fallbacks are all among them gets a warning. Unchecked when undefined.
   */
  readonly modelProblems?: ReadonlyMap<string, string>;
}

/** A melody that loaded, with the warnings found on the way. */
export interface LoadedMelody {
  readonly melody: Melody;
  readonly warnings: readonly Diagnostic[];
  readonly source: YamlSource;
}

type Raw = Record<string, unknown>;

const isMapLike = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Loads a melody from YAML text. Never throws: every problem — YAML syntax, schema,
 * unknown kinds, unknown needs, cycles, unknown instruments, malformed expressions —
 * comes back as a diagnostic with the `file:line:column` of the key or value at fault.
 */
export function loadMelody(text: string, file: string, context: MelodyContext = {}, limits: MelodyLimits = MELODY_LIMITS): Result<LoadedMelody, Diagnostic[]> {
  try {
    const parsed = parseMelodyYaml(text, file);
    return parsed.ok ? checkMelody(parsed.value, context, limits) : parsed;
  } catch (e) {
    return err([internalError(file, e)]);
  }
}

/** The first half of `loadMelody`: the YAML, parsed once (the workspace reads names from it). */
export function parseMelodyYaml(text: string, file: string, options?: { quick?: boolean }): Result<YamlData, Diagnostic[]> {
  return parseYamlMap(text, file, 'a melody needs at least `name:` and `nodes:`', 'a melody', options);
}

/** The second half of `loadMelody`, on YAML already parsed by `parseMelodyYaml`. */
export function loadParsedMelody(parsed: YamlData, context: MelodyContext = {}, limits: MelodyLimits = MELODY_LIMITS): Result<LoadedMelody, Diagnostic[]> {
  try {
    return checkMelody(parsed, context, limits);
  } catch (e) {
    return err([internalError(parsed.source.file, e)]);
  }
}

/** Limits of one melody beyond those of its YAML (see `limits.ts`). */
export interface MelodyLimits {
  readonly maxNodes: number;
}

export const MELODY_LIMITS: MelodyLimits = { maxNodes: MAX_MELODY_NODES };

/**
 * A melody's nodes as `[id, node]` pairs, listed once: the checks below each go through all of
 * them, and listing an object of thousands of keys is not cheap.
 */
type NodeEntries = readonly (readonly [string, unknown])[];

function checkMelody({ source, data, warnings }: YamlData, context: MelodyContext, limits: MelodyLimits): Result<LoadedMelody, Diagnostic[]> {
  const nodes = isMapLike(data.nodes) ? data.nodes : {};
  const entries: NodeEntries = Object.entries(nodes);
  // Counted before anything is checked node by node.
  if (entries.length > limits.maxNodes) {
    return err([source.diagnostic(['nodes'], `the melody has ${count(entries.length)} nodes; a melody may have at most ${count(limits.maxNodes)}`, 'limit', { on: 'key' })]);
  }

  const diagnostics: Diagnostic[] = [...warnings];
  const shape = safeParseNames(melodyShapeSchema, data, source.hasProtoKey);
  if (!shape.success) diagnostics.push(...schemaDiagnostics(shape.error.issues, source, melodyShapeSchema, data));

  const ids = new Set(entries.map(([id]) => id));
  const onFailure = isMapLike(data['on-failure']) ? data['on-failure'] : {};
  const compensate = typeof onFailure.compensate === 'string' ? onFailure.compensate : undefined;

  if (isMapLike(data.nodes) && ids.size === 0) {
    diagnostics.push(source.diagnostic(['nodes'], 'the melody has no nodes: add at least one under `nodes:`', 'schema', { on: 'key' }));
  }
  for (const [id, node] of entries) {
    if (isMapLike(node)) diagnostics.push(...checkNode(source, id, node, ids, compensate, context));
  }
  diagnostics.push(...checkCycles(source, entries, compensate));
  if (compensate !== undefined && !ids.has(compensate)) {
    diagnostics.push(unknownNode(source, ['on-failure', 'compensate'], compensate, ids, 'compensation node'));
  }
  diagnostics.push(...checkExpressions(source, data, ids));
  diagnostics.push(...checkCommands(source, data, entries));
  diagnostics.push(...checkEnvironment(source, data, entries));
  diagnostics.push(...checkSandbox(source, data, context));
  diagnostics.push(...checkTriggers(source, data, context));

  diagnostics.sort(compareDiagnostics);
  if (hasErrors(diagnostics) || !shape.success) return err(diagnostics);
  // Node ids and input names index these records: no prototype, so no id is inherited.
  const { nodes: specs, inputs: declared } = shape.data;
  const melody = { ...shape.data, nodes: nameRecord(Object.entries(specs)), ...(declared ? { inputs: nameRecord(Object.entries(declared)) } : {}) } as Melody;
  const loaded: LoadedMelody = { melody, warnings: diagnostics, source };
  return ok(context.modelProblems?.size ? withModelSetupWarnings(loaded, context.modelProblems) : loaded);
}

/**
 * A loaded melody with a warning at each node that no set-up model can serve: what loading
 * it with `modelProblems` in its context adds, for a melody checked before they were known.
 */
export function withModelSetupWarnings(loaded: LoadedMelody, problems: ReadonlyMap<string, string>): LoadedMelody {
  const extra = problems.size ? checkModelSetup(loaded.source, loaded.melody, problems) : [];
  if (!extra.length) return loaded;
  return { ...loaded, warnings: [...loaded.warnings, ...extra].sort(compareDiagnostics) };
}

/** A warning at each node that no set-up model can serve: it would fail when it runs. */
function checkModelSetup(source: YamlSource, melody: Melody, problems: ReadonlyMap<string, string>): Diagnostic[] {
  return unservedNodes(melody, problems).map((n) => {
    const why = n.candidates.map((c) => `${c.ref}: ${c.problem}`).join('; ');
    const none = n.candidates.length > 1 ? 'none of its instruments (with the fallbacks) is' : 'its instrument is not';
    return source.diagnostic(
      ['nodes', n.nodeId, 'instrument'],
      `node \`${n.nodeId}\` needs a model, and ${none} set up here — ${why}. It will fail until one is; "Symphony: Check Models" (\`symphony models\`) tries them`,
      'model-setup',
      { severity: 'warning' },
    );
  });
}

function unknownNode(source: YamlSource, path: YamlPath, name: string, ids: ReadonlySet<string>, role: string): Diagnostic {
  const hint = closest(name, [...ids]);
  const known = [...ids].join(', ') || 'none';
  return source.diagnostic(
    path,
    `${role} \`${name}\` is not a node of this melody; ${hint ? `did you mean \`${hint}\`?` : `its nodes are: ${known}`}`,
    'unknown-need',
  );
}

function checkNode(
  source: YamlSource,
  id: string,
  node: Raw,
  ids: ReadonlySet<string>,
  compensate: string | undefined,
  context: MelodyContext,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (...rest: (string | number)[]): YamlPath => ['nodes', id, ...rest];

  // Kind and its `with:`.
  const uses = node.uses;
  if (typeof uses === 'string' && !isNodeKind(uses)) {
    const hint = closest(uses, NODE_KIND_NAMES);
    out.push(
      source.diagnostic(
        at('uses'),
        `unknown node kind \`${uses}\`` + (hint ? `; did you mean \`${hint}\`?` : `; use one of: ${NODE_KIND_NAMES.join(', ')}`),
        'unknown-kind',
      ),
    );
  } else if (isNodeKind(uses)) {
    const schema = NODE_KINDS[uses];
    const withValue = node.with ?? {};
    if (isMapLike(withValue)) {
      const parsed = safeParseNames(schema, withValue, source.hasProtoKey);
      if (!parsed.success) out.push(...schemaDiagnostics(parsed.error.issues, source, schema, withValue, at('with')));
    }
    const mayNameInstrument = KINDS_WITH_INSTRUMENT.includes(uses);
    if (uses === 'instrument' && node.instrument === undefined) {
      out.push(source.diagnostic(at('uses'), `node \`${id}\` uses an instrument but does not say which: add \`instrument: ensemble/name\``, 'schema'));
    }
    for (const key of ['instrument', 'fallback'] as const) {
      if (node[key] !== undefined && !mayNameInstrument) {
        out.push(
          source.diagnostic(at(key), `\`${key}\` only applies to nodes that use ${KINDS_WITH_INSTRUMENT.slice(0, -1).join(', ')} or ${KINDS_WITH_INSTRUMENT.at(-1)}, not \`${uses}\``, 'schema', { on: 'key' }),
        );
      }
    }
  }

  // Instruments named by the node exist in the workspace.
  if (context.instruments) {
    const refs: [YamlPath, unknown][] = [[at('instrument'), node.instrument]];
    if (Array.isArray(node.fallback)) node.fallback.forEach((f, i) => refs.push([at('fallback', i), f]));
    for (const [path, ref] of refs) {
      if (typeof ref !== 'string' || !ref.includes('/') || context.instruments.has(ref)) continue;
      const hint = closest(ref, [...context.instruments]);
      const where = context.ensemblesDir ? ` in ${context.ensemblesDir}` : '';
      const [ensemble, name] = ref.split('/');
      out.push(
        source.diagnostic(
          path,
          `unknown instrument \`${ref}\`: there is no ${ensemble}/${name}.yaml${where}` +
            (hint ? `; did you mean \`${hint}\`?` : context.instruments.size ? `; known instruments: ${[...context.instruments].sort().join(', ')}` : ''),
          'unknown-instrument',
        ),
      );
    }
  }

  // Needs name real nodes, and never the compensation node.
  const needs = typeof node.needs === 'string' ? [node.needs] : Array.isArray(node.needs) ? node.needs : [];
  needs.forEach((need, i) => {
    if (typeof need !== 'string') return;
    const path = typeof node.needs === 'string' ? at('needs') : at('needs', i);
    if (!ids.has(need)) out.push(unknownNode(source, path, need, ids, 'needs'));
    else if (need === compensate) {
      out.push(
        source.diagnostic(path, `\`${need}\` is the compensation node (on-failure.compensate): it runs only when the run fails, so no node can need it`, 'compensate'),
      );
    }
  });
  if (id === compensate && needs.length > 0) {
    out.push(
      source.diagnostic(at('needs'), `\`${id}\` is the compensation node: it runs once after the run fails, so its \`needs\` are ignored`, 'compensate', {
        on: 'key',
        severity: 'warning',
      }),
    );
  }
  return out;
}

function checkCycles(source: YamlSource, nodes: NodeEntries, compensate: string | undefined): Diagnostic[] {
  const graph = new Map<string, string[]>();
  for (const [id, node] of nodes) {
    if (id === compensate || !isMapLike(node)) continue;
    graph.set(id, needsOf(node as Pick<NodeSpec, 'needs'>).filter((n) => typeof n === 'string'));
  }
  const out: Diagnostic[] = [];
  if (needsOnlyEarlierNodes(graph)) return out;
  const byId = new Map(nodes) as ReadonlyMap<string, Raw>;
  for (const cycle of findCycles(graph)) {
    const loop = [...cycle, cycle[0]].join(' → ');
    const members = new Set(cycle);
    for (const id of cycle) {
      // Point at the need that keeps this node inside the cycle.
      const raw = byId.get(id)!;
      const list = needsOf(raw as Pick<NodeSpec, 'needs'>);
      const i = list.findIndex((n) => members.has(n));
      const path: YamlPath = typeof raw.needs === 'string' ? ['nodes', id, 'needs'] : ['nodes', id, 'needs', i];
      out.push(
        source.diagnostic(
          path,
          cycle.length === 1
            ? `node \`${id}\` needs itself; remove \`${id}\` from its needs`
            : `cycle: ${loop} — these nodes wait for each other and could never start; remove one of these needs`,
          'cycle',
        ),
      );
    }
  }
  return out;
}

/**
 * Whether every need names a node listed before it in `graph` (or no node at all): then
 * following `needs` only ever goes back up that list, never comes back to a node, and
 * `findCycles` would find no cycle. Most melodies are written so (a node after those it
 * needs), and are checked in one pass; the others are searched for cycles as before.
 */
function needsOnlyEarlierNodes(graph: ReadonlyMap<string, readonly string[]>): boolean {
  const declared = new Set<string>();
  for (const [id, needs] of graph) {
    for (const need of needs) if (!declared.has(need) && graph.has(need)) return false;
    declared.add(id);
  }
  return true;
}

/**
 * Programs a melody runs must be listed in `permissions.commands` (the engine refuses the
 * rest). A literal command that is not listed would fail every run, so say so now.
 */
function checkCommands(source: YamlSource, data: Raw, nodes: NodeEntries): Diagnostic[] {
  const permissions = isMapLike(data.permissions) ? data.permissions : {};
  const allowed = Array.isArray(permissions.commands) ? permissions.commands.filter((c): c is string => typeof c === 'string') : undefined;
  const out: Diagnostic[] = [];
  for (const [id, node] of nodes) {
    if (!isMapLike(node)) continue;
    const w = isMapLike(node.with) ? node.with : {};
    const program = node.uses === 'shell' ? w.command : node.uses === 'git-commit' ? 'git' : undefined;
    if (typeof program !== 'string' || program.includes('${{') || allowed?.includes(program)) continue;
    const path: YamlPath = node.uses === 'shell' ? ['nodes', id, 'with', 'command'] : ['nodes', id, 'uses'];
    const fix = allowed ? `add it to \`permissions.commands\` (now: ${allowed.join(', ') || 'none'})` : `add \`permissions: { commands: [${program}] }\` to the melody`;
    out.push(source.diagnostic(path, `node \`${id}\` runs \`${program}\`, which this melody does not allow: ${fix}`, 'permission'));
  }
  return out;
}

/**
 * Variables that decide which program runs or what it loads (PATH, LD_PRELOAD,
 * NODE_OPTIONS…) may be set by a node only when `permissions.env` lists them; the engine
 * refuses the rest when the program starts. Keys are literal, so every one is known now.
 */
function checkEnvironment(source: YamlSource, data: Raw, nodes: NodeEntries): Diagnostic[] {
  const permissions = isMapLike(data.permissions) ? data.permissions : {};
  const allowed = new Set(Array.isArray(permissions.env) ? permissions.env.filter((n): n is string => typeof n === 'string').map((n) => n.toUpperCase()) : []);
  const out: Diagnostic[] = [];
  for (const [id, node] of nodes) {
    if (!isMapLike(node)) continue;
    const maps: [YamlPath, Raw][] = [];
    if (isMapLike(node.env)) maps.push([['nodes', id, 'env'], node.env]);
    if (node.uses === 'shell' && isMapLike(node.with) && isMapLike(node.with.env)) maps.push([['nodes', id, 'with', 'env'], node.with.env]);
    for (const [path, env] of maps) {
      for (const name of Object.keys(env)) {
        if (!isGuardedVariable(name) || allowed.has(name.toUpperCase())) continue;
        out.push(
          source.diagnostic(
            [...path, name],
            `node \`${id}\` sets ${name} in env:, which decides which program runs or what it loads; list it in \`permissions.env\` to allow it (programs are found on Symphony's own PATH either way)`,
            'permission',
            { on: 'key' },
          ),
        );
      }
    }
  }
  return out;
}

/**
 * Programs run in an OS sandbox; Windows has none, so a melody that may run programs there
 * must opt out in words — every program would be refused otherwise.
 */
function checkSandbox(source: YamlSource, data: Raw, context: MelodyContext): Diagnostic[] {
  const permissions = isMapLike(data.permissions) ? data.permissions : {};
  if (context.platform !== 'win32' || !Array.isArray(permissions.commands) || permissions.commands.length === 0 || permissions.sandbox === 'off') return [];
  return [
    source.diagnostic(
      ['permissions', 'commands'],
      'Windows has no sandbox for the programs this melody runs: add `sandbox: off` to its permissions to run them unsandboxed, with all of your rights',
      'sandbox',
      { on: 'key' },
    ),
  ];
}

const CONDITION_KEYS = (path: YamlPath): boolean =>
  path.length === 3 && path[0] === 'nodes' && path[2] === 'if'
    ? true
    : path.length === 4 && path[0] === 'nodes' && path[2] === 'loop' && path[3] === 'until';

function checkExpressions(source: YamlSource, data: Raw, ids: ReadonlySet<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const inputs = new Set(isMapLike(data.inputs) ? Object.keys(data.inputs) : []);
  // References must name a node of this melody, or a declared input.
  const kinds = [
    { prefix: 'nodes', find: referencedNodes, known: ids, code: 'unknown-node-ref' as const,
      what: (n: string) => `expression refers to node \`${n}\`, which is not in this melody`, otherwise: () => '' },
    { prefix: 'inputs', find: referencedInputs, known: inputs, code: 'unknown-input' as const,
      what: (n: string) => `expression uses input \`${n}\`, which is not declared`,
      otherwise: (n: string) => `; declare it under \`inputs:\` (e.g. \`${n}: { type: string }\`)` },
  ];
  /**
   * Checks one string. Given its source offsets, reports each problem there; without them,
   * only says whether it has one (and stops at the first).
   */
  const check = (path: YamlPath, value: string, offsets?: readonly [number, number]): boolean => {
    const hasTemplate = value.includes('${{');
    const isBare = !hasTemplate && CONDITION_KEYS(path);
    if ((!hasTemplate && !isBare) || path[0] === 'board') return false;
    const [nodeStart, nodeEnd] = offsets ?? [0, 0];
    const raw = offsets ? source.text.slice(nodeStart, nodeEnd) : '';
    const parts = isBare ? [bare(value)] : findTemplateParts(value);
    let searchFrom = 0;
    for (const part of parts) {
      // Map the part back to the file by finding its text in the raw source. Escapes in quoted
      // scalars can shift offsets; when the raw text does not match, point at the value's start.
      const rawAt = offsets ? raw.indexOf(isBare ? part.expression : '${{', searchFrom) : -1;
      if (rawAt >= 0) searchFrom = rawAt + 3;
      const exprOffset = (offsetInExpr: number): number =>
        rawAt >= 0 ? nodeStart + rawAt + (part.expressionStart - part.start) + offsetInExpr : nodeStart;
      const here = (offsetInExpr: number, length = 1) => source.rangeOfOffsets(exprOffset(offsetInExpr), exprOffset(offsetInExpr) + length);

      if (!part.terminated) {
        if (!offsets) return true;
        const opening = part.start - part.expressionStart;
        out.push({ file: source.file, range: here(opening, 3), severity: 'error', code: 'expression', message: 'expression `${{` is not closed: add `}}`' });
        continue;
      }
      const syntax = celSyntaxError(part.expression);
      if (syntax) {
        if (!offsets) return true;
        out.push({
          file: source.file,
          range: here(syntax.offset),
          severity: 'error',
          code: syntax.limit ? 'limit' : 'expression',
          // A limit's message stands alone: quoting a 5,000-character expression helps nobody.
          message: syntax.limit ? syntax.message : `invalid expression \`${part.expression}\`: ${syntax.message}`,
        });
        continue;
      }
      for (const k of kinds) {
        // A reference names its prefix (`nodes.x`, `inputs['y']`): without it there is none to find.
        if (!part.expression.includes(k.prefix)) continue;
        for (const ref of k.find(part.expression)) {
          if (k.known.has(ref.name)) continue;
          if (!offsets) return true;
          const hint = closest(ref.name, [...k.known]);
          out.push({
            file: source.file,
            range: here(ref.offset, `${k.prefix}.${ref.name}`.length),
            severity: 'error',
            code: k.code,
            message: k.what(ref.name) + (hint ? `; did you mean \`${hint}\`?` : k.otherwise(ref.name)),
          });
        }
      }
    }
    return false;
  };
  // Most melodies have no problem here, and then need no position: their data, quicker to walk
  // than the YAML document, is checked first, and the document is walked only when that finds
  // a problem. Where the data may differ from the document (`YamlSource.plainData`: aliases,
  // merge keys, keys that are not strings), the document is walked at once, as it always was.
  if (source.plainData && !someString(data, (path, value) => check(path, value))) return out;
  source.forEachString((path, value, nodeStart, nodeEnd) => void check(path, value, [nodeStart, nodeEnd]));
  return out;
}

/**
 * Whether `visit` is true of some string of `data` (plain objects and arrays, as parsed YAML
 * is), stopping at the first. The path is one array reused for the whole walk.
 */
function someString(data: unknown, visit: (path: YamlPath, value: string) => boolean): boolean {
  const path: (string | number)[] = [];
  const walk = (v: unknown): boolean => {
    if (typeof v === 'string') return visit(path, v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        const found = walk(v[i]);
        path.pop();
        if (found) return true;
      }
    } else if (v !== null && typeof v === 'object') {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key of Object.keys(v)) {
        path.push(key);
        const found = walk((v as Raw)[key]);
        path.pop();
        if (found) return true;
      }
    }
    return false;
  };
  return walk(data);
}

/** A bare condition (`if: nodes.a.status == 'success'`) as a template part covering it all. */
function bare(value: string) {
  const expression = conditionSource(value);
  return { expression, start: 0, end: value.length, expressionStart: 0, terminated: true } as const;
}

/**
 * Whether checking this melody consults `MelodyContext.melodyNames` (it has an `on: melody`
 * trigger naming a melody), so a workspace reads the names of its melodies only then.
 */
export function needsMelodyNames(data: Raw): boolean {
  return Array.isArray(data.triggers) && data.triggers.some((t) => isMapLike(t) && t.on === 'melody' && typeof t.melody === 'string');
}

function checkTriggers(source: YamlSource, data: Raw, context: MelodyContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!Array.isArray(data.triggers)) return out;
  data.triggers.forEach((t, i) => {
    if (!isMapLike(t)) return;
    if (t.on === 'schedule' && typeof t.cron === 'string') {
      try {
        new Cron(t.cron, { paused: true, timezone: typeof t.timezone === 'string' ? t.timezone : undefined }).stop();
      } catch (e) {
        out.push(source.diagnostic(['triggers', i, 'cron'], `invalid cron schedule "${t.cron}": ${(e as Error).message}`, 'cron'));
      }
    }
    if (t.on === 'melody' && typeof t.melody === 'string' && context.melodyNames && !context.melodyNames.has(t.melody)) {
      const hint = closest(t.melody, [...context.melodyNames]);
      out.push(
        source.diagnostic(
          ['triggers', i, 'melody'],
          `no melody named \`${t.melody}\` in this workspace` + (hint ? `; did you mean \`${hint}\`?` : ''),
          'schema',
          { severity: 'warning' },
        ),
      );
    }
  });
  return out;
}

/** All diagnostics of a load, whatever its outcome. */
export function diagnosticsOf(result: Result<{ readonly warnings: readonly Diagnostic[] }, Diagnostic[]>): readonly Diagnostic[] {
  return result.ok ? result.value.warnings : result.error;
}
