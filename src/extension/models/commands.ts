import * as vscode from 'vscode';
import type { Instrument } from '../../core/model/instrument';
import { checkInstruments, type InstrumentCheck } from '../../core/providers/check';
import { apiKeyName } from '../../core/providers/registry';
import type { SymphonyContext } from '../context';
import { secretNameProblem } from '../runs/secrets';

/** The instruments of the workspace, from the index's snapshot. */
function instrumentsOf(ctx: SymphonyContext): Instrument[] {
  return ctx.index.model?.ensembles.ensembles.flatMap((e) => e.instruments) ?? [];
}

/** Key names offered by Set API Key…: those the workspace's instruments read, then the usual ones. */
export function apiKeyNames(instruments: readonly Instrument[]): string[] {
  const names = new Set<string>();
  for (const i of instruments) {
    const name = i.model ? apiKeyName(i.model) : undefined;
    if (name) names.add(name);
  }
  for (const usual of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENROUTER_API_KEY']) names.add(usual);
  return [...names];
}

/**
 * Symphony: Set API Key… — a provider's key, by the name the CLI reads from the
 * environment (`OPENAI_API_KEY`, or an instrument's `apiKeyEnv`), into VS Code's secret
 * storage. Runs register it with their redactor: it never reaches a log or a record.
 */
export async function setApiKey(ctx: SymphonyContext, name?: unknown): Promise<boolean> {
  let chosen = typeof name === 'string' && name ? name : undefined;
  if (!chosen) {
    const stored = new Set(ctx.models.apiKeys.list());
    const users = (n: string) => instrumentsOf(ctx).filter((i) => i.model && apiKeyName(i.model) === n).map((i) => i.ref);
    const other = { label: '$(edit) Another name…', name: '' };
    const pick = await vscode.window.showQuickPick(
      [
        ...apiKeyNames(instrumentsOf(ctx)).map((n) => ({
          label: `${stored.has(n) ? '$(check) ' : '$(key) '}${n}`,
          description: stored.has(n) ? 'stored' : undefined,
          detail: users(n).length ? `read by ${users(n).join(', ')}` : undefined,
          name: n,
        })),
        other,
      ],
      { title: 'Set API Key', placeHolder: 'The key to store — by the environment variable name the CLI reads' },
    );
    if (!pick) return false;
    chosen = pick.name || (await vscode.window.showInputBox({ title: 'Set API Key: name', prompt: "The instrument's apiKeyEnv, e.g. GROQ_API_KEY", validateInput: secretNameProblem, ignoreFocusOut: true }));
  }
  if (!chosen) return false;
  const value = await vscode.window.showInputBox({ title: `Set API Key: ${chosen}`, prompt: "Kept in VS Code's secret storage — never in a file; runs redact it from every log and record.", password: true, ignoreFocusOut: true });
  if (!value) return false;
  await ctx.models.apiKeys.set(chosen, value.trim());
  // What is set up changed: the Melodies view's warnings and the triggers go by it.
  await ctx.index.refresh();
  void vscode.window.showInformationMessage(`Symphony: ${chosen} is stored. Instruments that read it can now be called — "Symphony: Check Models" tries them.`);
  return true;
}

/** Symphony: Delete API Key… */
export async function deleteApiKey(ctx: SymphonyContext, name?: unknown): Promise<boolean> {
  const known = ctx.models.apiKeys.list();
  const chosen =
    typeof name === 'string' && name
      ? name
      : known.length
        ? await vscode.window.showQuickPick(known, { title: 'Delete API Key', placeHolder: 'The key to delete from secret storage' })
        : (void vscode.window.showInformationMessage('Symphony: no API keys are stored. "Symphony: Set API Key…" adds one.'), undefined);
  if (!chosen) return false;
  await ctx.models.apiKeys.delete(chosen);
  await ctx.index.refresh();
  void vscode.window.showInformationMessage(`Symphony: ${chosen} is deleted from secret storage.`);
  return true;
}

/**
 * Symphony: Check Models — tries every instrument (a model list, a load, the program on
 * PATH), logs the result and lists it; choosing a row opens the instrument, or — for a
 * missing key — sets it. Resolves with the checks (integration tests read them).
 */
export async function checkModels(ctx: SymphonyContext, options: { quiet?: boolean } = {}): Promise<InstrumentCheck[]> {
  if (!ctx.index.model) await ctx.index.refresh();
  const model = ctx.index.model;
  if (!model) throw new Error('open a folder with a Symphony workspace first');
  const instruments = instrumentsOf(ctx);
  const checks = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Symphony: checking ${instruments.length} instruments…`, cancellable: true }, (_p, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return checkInstruments(ctx.models.models, instruments, { workspaceRoot: model.root, env: process.env, signal: abort.signal });
  });
  for (const c of checks) ctx.log.info(`check models: ${c.reachable ? 'reachable' : 'NOT reachable'} ${c.instrument} (${c.provider} ${c.model}): ${c.detail}`);
  if (options.quiet) return checks;
  if (!checks.length) {
    void vscode.window.showInformationMessage('Symphony: no instruments yet. Add one under ensembles/<ensemble>/<instrument>.yaml, or run "Symphony: Initialize Workspace".');
    return checks;
  }
  const bad = checks.filter((c) => !c.reachable).length;
  const pick = await vscode.window.showQuickPick(
    checks.map((c) => ({
      label: `${c.reachable ? '$(pass-filled)' : '$(error)'} ${c.instrument}`,
      description: `${c.nickname} · ${c.provider}${c.model ? ` ${c.model}` : ''}`,
      detail: c.detail,
      check: c,
    })),
    { title: bad ? `Check Models: ${bad} of ${checks.length} cannot be reached` : `Check Models: all ${checks.length} reachable`, matchOnDetail: true, placeHolder: 'Choose an instrument to open it' },
  );
  if (pick) {
    const instrument = instruments.find((i) => i.ref === pick.check.instrument);
    const key = !pick.check.reachable && /API key|Set API Key/.test(pick.check.detail) && instrument?.model ? apiKeyName(instrument.model) : undefined;
    if (key) await setApiKey(ctx, key);
    else if (instrument) await vscode.window.showTextDocument(vscode.Uri.file(instrument.file));
  }
  return checks;
}
