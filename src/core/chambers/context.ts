import type { Chamber } from '../model/chamber';
import type { DeviationRecord } from '../model/deviation';
import type { MissionContext } from '../model/mission';

/**
 * The context a chamber's worker starts from, in the three tiers of DESIGN.md §4:
 * MUST READ (its scope and rules), SHOULD KNOW (the mission), REFERENCE IF NEEDED (the
 * deviations touching its module, and who works on what next door). Written to
 * `.chamber/CONTEXT.md` for agents and people, and `.chamber/context.json` for tools.
 */

/** One section of a tier. */
export interface ContextSection {
  readonly title: string;
  /** Markdown. */
  readonly body: string;
}

/** The three tiers, most important first. */
export interface ChamberContext {
  readonly chamber: string;
  readonly mustRead: readonly ContextSection[];
  readonly shouldKnow: readonly ContextSection[];
  readonly referenceIfNeeded: readonly ContextSection[];
}

const list = (items: readonly string[], none: string) => (items.length ? items.map((i) => `- ${i}`).join('\n') : none);

function scopeSection(c: Chamber): ContextSection {
  const globs = Array.isArray(c.scope) ? c.scope : [c.scope];
  const body = [
    `You are the worker of chamber \`${c.id}\`, owning module **${c.module}**.`,
    '',
    `- Branch: \`${c.branch}\`, started from commit \`${c.base.slice(0, 12)}\`.`,
    `- Change only files matching: ${globs.map((g) => `\`${g}\``).join(', ')}.`,
    '- Commit your work on this branch; it is merged back by `symphony merge-chambers` according to `.symphony/MERGE_PLAN.json`.',
    `- When the architecture does not fit what the code needs, leave a marker comment (\`DEVIATION_MINOR:\`, \`ARCHITECTURAL_MISMATCH:\` or \`FUNDAMENTAL_BREAK:\`) and record it: \`symphony record-deviation --module ${c.module} …\`.`,
    '- `.chamber/` is yours to read; it is never committed.',
  ];
  if (c.mission) body.push('', '### Your task', '', c.mission);
  return { title: 'Scope', body: body.join('\n') };
}

function missionSection(mission: MissionContext | undefined): ContextSection {
  if (!mission) return { title: 'Mission', body: 'There is no `.symphony/MISSION_CONTEXT.json` in the workspace.' };
  return {
    title: 'Mission',
    body: [
      `**Original request:** ${mission.original_request || '(not written down)'}`,
      '',
      `**Current understanding:** ${mission.current_understanding || '(not written down)'}`,
      '',
      '**Discovered requirements:**',
      '',
      list(mission.discovered_requirements, '(none yet)'),
    ].join('\n'),
  };
}

const SEVERITY_ORDER = { fundamental: 0, major: 1, minor: 2 } as const;

function deviationsSection(module: string, records: readonly DeviationRecord[]): ContextSection {
  const mine = records
    .filter((r) => r.module === module)
    .sort((a, b) => Number(a.status === 'resolved') - Number(b.status === 'resolved') || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const body = mine.map((r) =>
    [
      `### ${r.id} — ${r.severity}, ${r.status}`,
      '',
      `- Found by: ${r.agent}`,
      `- Expected: ${r.expected}`,
      `- Discovered: ${r.discovered}`,
      `- Action: ${r.action}`,
      `- Reasoning: ${r.reasoning}`,
      `- Impact: ${r.impact}`,
      `- Markers: ${r.markers.length ? r.markers.map((m) => `\`${m.file}:${m.line}\``).join(', ') : 'none'}`,
    ].join('\n'),
  );
  return { title: `Deviations in module ${module}`, body: body.length ? body.join('\n\n') : `No deviation is recorded for module ${module}.` };
}

function neighboursSection(self: Chamber, all: readonly Chamber[]): ContextSection {
  const others = all.filter((c) => c.id !== self.id).map((c) => `\`${c.id}\` — module ${c.module}, scope ${[c.scope].flat().map((g) => `\`${g}\``).join(', ')}`);
  return { title: 'Other chambers', body: list(others, 'No other chamber works in parallel.') };
}

/** Builds a chamber's context from the workspace's mission and deviation records. */
export function chamberContext(
  chamber: Chamber,
  all: readonly Chamber[],
  mission: MissionContext | undefined,
  records: readonly DeviationRecord[],
): ChamberContext {
  return {
    chamber: chamber.id,
    mustRead: [scopeSection(chamber)],
    shouldKnow: [missionSection(mission)],
    referenceIfNeeded: [deviationsSection(chamber.module, records), neighboursSection(chamber, all)],
  };
}

/** The tier headings, as written in CONTEXT.md. */
export const TIERS = ['MUST READ', 'SHOULD KNOW', 'REFERENCE IF NEEDED'] as const;

/** CONTEXT.md: the tiers in order, each section under its tier. */
export function renderContext(ctx: ChamberContext): string {
  const tiers = [ctx.mustRead, ctx.shouldKnow, ctx.referenceIfNeeded];
  const parts = [`# Chamber ${ctx.chamber}`, '', 'Read the tiers in order; stop when you know enough.'];
  TIERS.forEach((name, i) => {
    parts.push('', `## ${name}`);
    for (const s of tiers[i]!) parts.push('', `### ${s.title}`, '', s.body.replace(/^### /gm, '#### '));
  });
  return parts.join('\n') + '\n';
}
