import { Cron } from 'croner';
import { relative, sep } from 'node:path';
import { parseDuration } from '../model/duration';
import type { RunStatus, TriggerInfo } from '../model/run';
import { chainFirings, commitFirings, saveFirings, scheduleTriggers, webhookRoutes, type SaveReason, type TriggerTarget } from './match';
import { WebhookServer } from './webhook';

/** Chained melodies (`on: melody`) stop after this many links, so A → B → A cannot loop forever. */
export const MAX_CHAIN = 8;

/** Default wait after a save before its melodies start, so "Save All" starts each once. */
export const DEFAULT_SAVE_DEBOUNCE_MS = 300;

/** What the dispatcher needs from its host (the extension, or `symphony serve`). */
export interface DispatcherOptions {
  readonly root: string;
  /** The workspace's melodies that loaded without errors, as of now. */
  readonly targets: () => readonly TriggerTarget[];
  /** Starts a run of `target`; resolves with its id once it has started (or undefined if it could not). */
  readonly start: (target: TriggerTarget, trigger: TriggerInfo) => Promise<string | undefined>;
  readonly secrets?: (name: string) => Promise<string | undefined>;
  readonly log?: (level: 'info' | 'warning', message: string) => void;
  /**
   * Asked before a trigger starts a run: a reason not to (a model the melody needs cannot
   * be reached, say), or undefined to start it. Runs started by hand do not ask.
   */
  readonly hold?: (target: TriggerTarget, trigger: TriggerInfo) => Promise<string | undefined>;
  /** The webhook endpoint may bind beyond loopback (`symphony serve --allow-remote`): it then answers signed routes only. */
  readonly allowRemote?: boolean;
}

/** A scheduled trigger and when it fires next, for views. */
export interface ScheduledTrigger {
  readonly melody: string;
  readonly cron: string;
  readonly next: Date | undefined;
}

/**
 * Starts melodies when their triggers fire: saves (debounced), commits, schedules (cron,
 * with time zones), webhooks (HTTP) and the end of other melodies (chains). Manual runs are
 * the host's business. The host tells the dispatcher about saves, commits and every run
 * that ends; schedules and webhooks the dispatcher watches itself.
 */
export class TriggerDispatcher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly pendingFiles = new Map<string, string>();
  private crons: { melody: string; cron: Cron }[] = [];
  private webhooks: WebhookServer | undefined;
  /** How many chain links led to each run the dispatcher started from a chain. */
  private readonly chainDepth = new Map<string, number>();

  constructor(private readonly opts: DispatcherOptions) {}

  private log(level: 'info' | 'warning', message: string): void {
    this.opts.log?.(level, message);
  }

  private launch(target: TriggerTarget, trigger: TriggerInfo): Promise<string | undefined> {
    // Without a hold the run starts at once (in the same turn as the trigger).
    if (!this.opts.hold) return this.startNow(target, trigger);
    return this.opts
      .hold(target, trigger)
      .catch((e: unknown) => {
        this.log('warning', `${target.melody.name}: could not check whether it can run (${(e as Error).message}); starting it`);
        return undefined;
      })
      .then((held) => {
        if (!held) return this.startNow(target, trigger);
        this.log('info', `${target.melody.name}: not started by ${trigger.kind}: ${held}`);
        return undefined;
      });
  }

  private startNow(target: TriggerTarget, trigger: TriggerInfo): Promise<string | undefined> {
    this.log('info', `${target.melody.name}: started by ${trigger.kind}${trigger.detail ? ` (${trigger.detail})` : ''}`);
    return this.opts.start(target, trigger).catch((e: unknown) => {
      this.log('warning', `${target.melody.name} could not start: ${(e as Error).message}`);
      return undefined;
    });
  }

  /** Saves waiting out their debounce (a run will start for each). */
  pendingSaves(): number {
    return this.timers.size;
  }

  /** A file was saved in the editor (by the person, unless `reason` says auto-save after a delay). */
  fileSaved(absPath: string, reason: SaveReason = 'explicit'): void {
    const rel = relative(this.opts.root, absPath).split(sep).join('/');
    if (rel.startsWith('..')) return;
    for (const f of saveFirings(this.opts.targets(), rel, reason)) {
      const key = `${f.target.file}#${f.index}`;
      this.pendingFiles.set(key, rel);
      clearTimeout(this.timers.get(key));
      const wait = f.trigger.debounce !== undefined ? (parseDuration(f.trigger.debounce) ?? DEFAULT_SAVE_DEBOUNCE_MS) : DEFAULT_SAVE_DEBOUNCE_MS;
      this.timers.set(
        key,
        setTimeout(() => {
          this.timers.delete(key);
          const file = this.pendingFiles.get(key) ?? rel;
          this.pendingFiles.delete(key);
          void this.launch(f.target, { kind: 'save', detail: file, file });
        }, wait),
      );
    }
  }

  /** A commit was made in the workspace repository. */
  committed(commit: { readonly id: string; readonly branch?: string; readonly files: readonly string[] }): void {
    for (const f of commitFirings(this.opts.targets(), commit)) {
      void this.launch(f.target, { kind: 'commit', detail: `${commit.id.slice(0, 8)}${commit.branch ? ` on ${commit.branch}` : ''}`, commit: commit.id, branch: commit.branch });
    }
  }

  /** A run ended (any run, however started): melodies chained after it start. */
  async runEnded(ended: { readonly runId: string; readonly melody: string; readonly status: RunStatus }): Promise<void> {
    const firings = chainFirings(this.opts.targets(), ended);
    if (firings.length === 0) return;
    const depth = (this.chainDepth.get(ended.runId) ?? 0) + 1;
    this.chainDepth.delete(ended.runId);
    if (depth > MAX_CHAIN) {
      this.log('warning', `chain stopped after ${MAX_CHAIN} melodies (at ${ended.melody}): chained melodies may be starting each other in a loop`);
      return;
    }
    for (const f of firings) {
      const runId = await this.launch(f.target, {
        kind: 'melody',
        detail: `after ${ended.melody} (${ended.status})`,
        upstream: { runId: ended.runId, melody: ended.melody, status: ended.status },
      });
      if (runId) this.chainDepth.set(runId, depth);
    }
  }

  /** Re-reads the melodies: schedules and webhook routes follow their triggers. */
  refresh(): void {
    for (const c of this.crons) c.cron.stop();
    this.crons = [];
    for (const f of scheduleTriggers(this.opts.targets())) {
      try {
        const cron = new Cron(f.trigger.cron, { timezone: f.trigger.timezone, protect: true }, () => {
          void this.launch(f.target, { kind: 'schedule', detail: f.trigger.cron });
        });
        this.crons.push({ melody: f.target.melody.name, cron });
      } catch (e) {
        this.log('warning', `${f.target.melody.name}: schedule "${f.trigger.cron}" is invalid: ${(e as Error).message}`);
      }
    }
    this.webhooks?.setRoutes(this.routes());
  }

  private routes() {
    return webhookRoutes(this.opts.targets()).map((r) => ({
      path: r.path,
      secret: r.trigger.secret,
      fire: async (payload: unknown) => {
        const runId = await this.launch(r.target, { kind: 'webhook', detail: `POST ${r.path}`, payload });
        return `${r.target.melody.name}${runId ? ` (${runId})` : ''}`;
      },
    }));
  }

  /** The schedules in force, with their next firing. */
  schedules(): ScheduledTrigger[] {
    return this.crons.map((c) => ({ melody: c.melody, cron: c.cron.getPattern() ?? '', next: c.cron.nextRun() ?? undefined }));
  }

  /** Starts the webhook endpoint; resolves with its base URL. */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.webhooks ??= new WebhookServer(this.opts.secrets ?? (async () => undefined), { allowRemote: this.opts.allowRemote });
    this.webhooks.setRoutes(this.routes());
    return this.webhooks.listen(port, host);
  }

  /** The webhook paths being answered. */
  webhookPaths(): string[] {
    return this.webhooks?.paths ?? [];
  }

  /**
   * Closes the webhook endpoint only: saves waiting out their debounce and schedules go on
   * (a changed port must not swallow a save made a moment before).
   */
  async closeWebhooks(): Promise<void> {
    const server = this.webhooks;
    this.webhooks = undefined;
    await server?.close();
  }

  async dispose(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const c of this.crons) c.cron.stop();
    this.crons = [];
    await this.webhooks?.close();
  }
}
