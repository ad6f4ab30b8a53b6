import * as vscode from 'vscode';
import { simpleGit } from 'simple-git';
import type { RunEvent, TriggerInfo } from '../../core/model/run';
import { TriggerDispatcher } from '../../core/triggers/dispatcher';
import type { SaveReason, TriggerTarget } from '../../core/triggers/match';
import type { SymphonyContext } from '../context';
import { holdForModels } from '../models/setup';

/** The part of the built-in git extension's API we use (`vscode.git`, API version 1). */
interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly state: { readonly HEAD?: { readonly name?: string; readonly commit?: string }; readonly onDidChange: vscode.Event<void> };
}
interface GitApi {
  readonly repositories: readonly GitRepository[];
  readonly onDidOpenRepository: vscode.Event<GitRepository>;
}

/** What the Show Triggers command and the tests see. */
export interface TriggersApi {
  /** The dispatcher while triggers are on (workspace trusted, setting enabled). */
  readonly dispatcher: () => TriggerDispatcher | undefined;
  /** The webhook endpoint's base URL while it is open. */
  readonly webhookUrl: () => string | undefined;
}

/**
 * Starts melodies by their triggers while the window is open: editor saves, commits seen by
 * the built-in git extension, schedules, webhooks (when a port is set) and the end of other
 * melodies' runs. Nothing starts in Restricted Mode or with `symphony.triggers.enabled` off.
 * Triggered runs go through the RunController like any run, quietly.
 */
export function registerTriggers(ctx: SymphonyContext): TriggersApi {
  let dispatcher: TriggerDispatcher | undefined;
  let webhookUrl: string | undefined;
  let listening: number | undefined;
  const disposables: vscode.Disposable[] = [];
  const parents = new Map<string, boolean>();

  const targets = (): TriggerTarget[] =>
    (ctx.index.model?.melodies ?? []).flatMap((m) => (m.melody ? [{ file: m.file, melody: m.melody }] : []));

  // When each trigger fired (a save: when its debounce ended): the dispatcher asks `hold`
  // at once, before the model-setup check, and then `start` with the same trigger.
  const firedAt = new WeakMap<TriggerInfo, number>();

  const start = (target: TriggerTarget, trigger: TriggerInfo) =>
    new Promise<string | undefined>((resolve) => {
      let id: string | undefined;
      // From the trigger firing to the run shown as running, and to its first event in the journal.
      const fired = firedAt.get(trigger) ?? performance.now();
      let shown = 0;
      ctx.runs
        .runFile(target.file, target.melody.name, {}, {
          trigger,
          background: true,
          onShown: () => (shown = performance.now() - fired),
          onEvent: (e) => {
            if (e.type !== 'run-started' || id) return;
            ctx.log.info(`trigger ${trigger.kind}: ${target.melody.name} shown running in ${shown.toFixed(1)} ms, started in ${(performance.now() - fired).toFixed(1)} ms (run ${e.runId})`);
            resolve((id = e.runId));
          },
        })
        .catch((e: unknown) => {
          ctx.log.warn(`trigger ${trigger.kind}: ${target.melody.name} could not run: ${(e as Error).message}`);
          resolve(undefined);
        });
    });

  const enable = async () => {
    const options = ctx.options;
    const wanted = vscode.workspace.isTrusted && options.triggersEnabled && ctx.index.root !== undefined;
    if (!wanted) return disable();
    if (!dispatcher) {
      dispatcher = new TriggerDispatcher({
        root: ctx.index.root!.uri.fsPath,
        targets,
        start,
        secrets: (name) => ctx.runs.secrets.get(name),
        hold: async (target, trigger) => {
          firedAt.set(trigger, performance.now());
          await ctx.index.modelSetupKnown();
          return holdForModels(ctx, target.melody, startedBy(trigger));
        },
        log: (level, message) => (level === 'warning' ? ctx.log.warn(`trigger: ${message}`) : ctx.log.info(`trigger: ${message}`)),
      });
    }
    dispatcher.refresh();
    // Port 0 means closed, which is also how the endpoint starts.
    if (options.webhookPort !== (listening ?? 0)) {
      await dispatcher.closeWebhooks();
      webhookUrl = undefined;
      listening = undefined;
      if (options.webhookPort > 0) {
        try {
          webhookUrl = await dispatcher.listen(options.webhookPort);
          listening = options.webhookPort;
          ctx.log.info(`webhook triggers listen on ${webhookUrl}`);
        } catch (e) {
          void vscode.window.showWarningMessage(`Symphony: the webhook endpoint could not open port ${options.webhookPort}: ${(e as Error).message}`);
        }
      }
    }
  };

  const disable = async () => {
    await dispatcher?.dispose();
    dispatcher = undefined;
    webhookUrl = undefined;
    listening = undefined;
  };

  // Runs that end — however they were started — set off the melodies chained after them.
  // Sub-melody runs are steps of their parent, not runs of their own for chaining.
  ctx.runs.onDidRunEvent(
    (e: RunEvent) => {
      if (e.type === 'run-started') parents.set(e.runId, e.parent !== undefined);
      if (e.type !== 'run-finished') return;
      const child = parents.get(e.runId);
      parents.delete(e.runId);
      if (!child && dispatcher) {
        const melody = ctx.runs.model.snapshot.get(e.runId)?.melody;
        if (melody) void dispatcher.runEnded({ runId: e.runId, melody, status: e.status });
      }
    },
    undefined,
    disposables,
  );

  // Why a document is saved is told before the save (onWill…), not after: keep it until then.
  const saveReasons = new Map<string, SaveReason>();
  vscode.workspace.onWillSaveTextDocument((e) => e.document.uri.scheme === 'file' && saveReasons.set(e.document.uri.toString(), saveReasonOf(e.reason)), undefined, disposables);
  vscode.workspace.onDidSaveTextDocument(
    (doc) => {
      if (doc.uri.scheme !== 'file') return;
      const reason = saveReasons.get(doc.uri.toString()) ?? 'explicit';
      saveReasons.delete(doc.uri.toString());
      if (reason === 'delay') ctx.log.trace(`auto-save of ${doc.uri.fsPath}: only save triggers with autosave: true fire`);
      dispatcher?.fileSaved(doc.uri.fsPath, reason);
    },
    undefined,
    disposables,
  );
  ctx.index.onDidChange(() => void enable(), undefined, disposables);
  vscode.workspace.onDidGrantWorkspaceTrust(() => void enable(), undefined, disposables);
  vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('symphony.triggers') && void enable(), undefined, disposables);
  watchCommits(ctx, () => dispatcher, disposables);

  ctx.extension.subscriptions.push({ dispose: () => (void disable(), disposables.forEach((d) => d.dispose())) });
  void enable();
  return { dispatcher: () => dispatcher, webhookUrl: () => webhookUrl };
}

/** What set a run off, for "did not start …": "on the save of src/a.js", "after build". */
function startedBy(trigger: TriggerInfo): string {
  switch (trigger.kind) {
    case 'save':
      return `on the save of ${trigger.file ?? trigger.detail ?? 'a file'}`;
    case 'melody':
      return `after ${trigger.upstream?.melody ?? 'another melody'}`;
    default:
      return `on ${trigger.kind}${trigger.detail ? ` (${trigger.detail})` : ''}`;
  }
}

/** VS Code's save reason in the core's words: auto-save after a delay is the one the person did not make. */
function saveReasonOf(reason: vscode.TextDocumentSaveReason): SaveReason {
  switch (reason) {
    case vscode.TextDocumentSaveReason.AfterDelay:
      return 'delay';
    case vscode.TextDocumentSaveReason.FocusOut:
      return 'focus';
    default:
      return 'explicit';
  }
}

/**
 * Commits, through the built-in git extension: when HEAD moves to a new commit on the same
 * branch (a commit, or a pull), the files it touched come from git (argument arrays, no
 * shell) and commit triggers are checked. A branch switch is not a commit.
 */
function watchCommits(ctx: SymphonyContext, dispatcher: () => TriggerDispatcher | undefined, disposables: vscode.Disposable[]): void {
  const git = vscode.extensions.getExtension<{ getAPI(version: 1): GitApi }>('vscode.git');
  if (!git) return;
  const seen = new WeakMap<GitRepository, { branch?: string; commit?: string }>();
  const watch = (repo: GitRepository) => {
    seen.set(repo, { branch: repo.state.HEAD?.name, commit: repo.state.HEAD?.commit });
    repo.state.onDidChange(
      () => {
        const before = seen.get(repo);
        const head = repo.state.HEAD;
        seen.set(repo, { branch: head?.name, commit: head?.commit });
        if (!head?.commit || !before?.commit || head.commit === before.commit || head.name !== before.branch) return;
        const d = dispatcher();
        if (!d) return;
        void simpleGit({ baseDir: repo.rootUri.fsPath })
          .raw(['diff', '--name-only', before.commit, head.commit])
          .then(
            (out) => d.committed({ id: head.commit!, branch: head.name, files: relativeFiles(ctx, repo, out) }),
            (e: unknown) => ctx.log.warn(`commit trigger: git diff failed: ${(e as Error).message}`),
          );
      },
      undefined,
      disposables,
    );
  };
  const activate = async () => {
    const api = (git.isActive ? git.exports : await git.activate()).getAPI(1);
    api.repositories.forEach(watch);
    api.onDidOpenRepository(watch, undefined, disposables);
  };
  activate().catch((e: unknown) => ctx.log.warn(`commit triggers are off: the git extension is not available (${(e as Error).message})`));
}

/** Files of a git diff, relative to the Symphony root (git gives them relative to the repository). */
function relativeFiles(ctx: SymphonyContext, repo: GitRepository, diff: string): string[] {
  const root = ctx.index.root?.uri.fsPath ?? repo.rootUri.fsPath;
  const prefix = root.startsWith(repo.rootUri.fsPath) ? root.slice(repo.rootUri.fsPath.length).replace(/^\//, '') : '';
  return diff
    .split('\n')
    .map((f) => f.trim())
    .filter(Boolean)
    .filter((f) => !prefix || f.startsWith(`${prefix}/`))
    .map((f) => (prefix ? f.slice(prefix.length + 1) : f));
}

/**
 * Symphony: Show Triggers — what can start melodies by themselves now: schedules with their
 * next time, webhook URLs, chains, save and commit triggers; picking one opens its melody.
 */
export async function showTriggers(ctx: SymphonyContext, api: TriggersApi): Promise<void> {
  const d = api.dispatcher();
  if (!d) {
    const why = !vscode.workspace.isTrusted ? 'the workspace is in Restricted Mode' : !ctx.options.triggersEnabled ? 'symphony.triggers.enabled is off' : 'no folder is open';
    void vscode.window.showInformationMessage(`Symphony: triggers are off because ${why}; melodies start only by hand.`);
    return;
  }
  const url = api.webhookUrl();
  const items: (vscode.QuickPickItem & { file?: string })[] = [];
  const schedules = d.schedules();
  for (const m of ctx.index.model?.melodies ?? []) {
    if (!m.melody) continue;
    for (const t of m.melody.triggers ?? []) {
      if (t.on === 'manual') continue;
      const next = t.on === 'schedule' ? schedules.find((s) => s.melody === m.melody!.name && s.cron === t.cron)?.next : undefined;
      const detail =
        t.on === 'schedule'
          ? `${t.cron}${t.timezone ? ` (${t.timezone})` : ''} — next ${next ? next.toLocaleString() : 'never'}`
          : t.on === 'webhook'
            ? url
              ? `POST ${url}${t.path ?? `/${m.melody.name}`}`
              : 'closed: set symphony.triggers.webhookPort, or use `symphony serve`'
            : t.on === 'save'
              ? `saving ${t.paths?.join(', ') ?? 'any file'}`
              : t.on === 'commit'
                ? `commits on ${t.branches?.join(', ') ?? 'any branch'}${t.paths ? ` touching ${t.paths.join(', ')}` : ''}`
                : `after ${t.melody} (${t.when ?? 'success'})`;
      items.push({ label: `$(zap) ${m.melody.name}`, description: `on ${t.on}`, detail, file: m.file });
    }
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Symphony: no melody declares a trigger other than manual.');
    return;
  }
  const pick = await vscode.window.showQuickPick(items, { title: 'Symphony triggers', matchOnDescription: true, matchOnDetail: true });
  if (pick?.file) await vscode.window.showTextDocument(vscode.Uri.file(pick.file));
}
