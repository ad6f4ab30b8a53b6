import { watch } from 'node:fs';
import { relative } from 'node:path';
import { nodeFileSystem } from '../../core/load/fs';
import { findWorkspaceRoot, loadWorkspaceModel } from '../../core/load/workspace';
import type { RunEvent } from '../../core/model/run';
import { TriggerDispatcher } from '../../core/triggers/dispatcher';
import { webhookRoutes, type TriggerTarget } from '../../core/triggers/match';
import { isLoopback } from '../../core/triggers/webhook';
import { describeUnserved, unservedNodes } from '../../core/providers/readiness';
import { cliModelSetup } from '../modelSetup';
import { cliEngine, type RunOptions } from '../host';
import type { CliEnvironment } from '../options';
import { paint } from '../print';
import { RunPrinter } from '../runPrinter';

/** Options of `symphony serve`. */
export interface ServeOptions extends RunOptions {
  readonly port?: number;
  readonly host?: string;
  /** Bind the webhook endpoint beyond loopback; every webhook trigger must then have a secret. */
  readonly allowRemote?: boolean;
  readonly webhooks?: boolean;
  readonly verbose?: boolean;
}

/**
 * `symphony serve` — runs the workspace's melodies when their schedule, webhook or chain
 * triggers fire, headless, until Ctrl+C. (Save and commit triggers belong to the editor;
 * from a terminal, call `symphony run` from a git hook.) Melody files are re-read when they
 * change.
 */
export async function serveCommand(env: CliEnvironment, options: ServeOptions): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const webhooks = options.webhooks !== false;
  if (webhooks && !isLoopback(host) && !options.allowRemote) {
    env.stderr(
      `symphony: --host ${host} is not a loopback address: the webhook endpoint would be reachable from other machines. ` +
        'Pass --allow-remote if that is meant; every webhook trigger then needs a secret, and only signed requests are answered.\n',
    );
    return 2;
  }
  const root = await findWorkspaceRoot(nodeFileSystem, env.cwd);
  const printer = new RunPrinter({ ...env, interactive: false }, { verbose: options.verbose });
  const engine = cliEngine(env, root, { ...options, onEvent: (e) => printer.onEvent(e) });
  const running = new Set<AbortController>();
  let targets: TriggerTarget[] = [];
  /** Instruments whose model is not set up here (no key in the environment, a VS Code model), and why. */
  let modelProblems: ReadonlyMap<string, string> = new Map();
  const reload = async () => {
    const model = await loadWorkspaceModel(nodeFileSystem, root, undefined, cliModelSetup(env));
    modelProblems = model.context.modelProblems ?? new Map();
    targets = model.melodies.flatMap((m) => (m.melody ? [{ file: m.file, melody: m.melody }] : []));
    const broken = model.melodies.filter((m) => !m.melody);
    for (const m of broken) env.stderr(paint(env.color, 'yellow', `skipping ${m.file}: it has errors (run \`symphony validate\`)`) + '\n');
  };
  await reload();
  if (webhooks) {
    const routes = webhookRoutes(targets);
    const unsigned = routes.filter((r) => !r.trigger.secret);
    if (options.allowRemote && unsigned.length) {
      const list = unsigned.map((r) => `  ${relative(root, r.target.file)}: POST ${r.path} has no secret`).join('\n');
      env.stderr(`symphony: --allow-remote answers signed webhooks only, and these webhook triggers have no secret:\n${list}\n`);
      return 1;
    }
    for (const name of new Set(routes.flatMap((r) => (r.trigger.secret ? [r.trigger.secret] : [])))) {
      if (env.env[name] === undefined) env.stderr(paint(env.color, 'yellow', `the webhook secret ${name} is not set (the environment variable ${name}): its routes answer 500`) + '\n');
    }
  }

  let toldAboutModels = false;
  const dispatcher: TriggerDispatcher = new TriggerDispatcher({
    root,
    targets: () => targets,
    secrets: async (name) => env.env[name],
    allowRemote: options.allowRemote,
    log: (level, message) => env.stderr(paint(env.color, level === 'warning' ? 'yellow' : 'cyan', `[trigger] ${message}`) + '\n'),
    // A melody that needs a model none is set up for would only fail: it is not started,
    // and the first time this says why and what to do (the dispatcher logs each hold).
    hold: async (target) => {
      const unserved = modelProblems.size ? unservedNodes(target.melody, modelProblems) : [];
      if (!unserved.length) return undefined;
      if (!toldAboutModels) {
        toldAboutModels = true;
        env.stderr(
          paint(
            env.color,
            'yellow',
            `${target.melody.name} needs a model, and none is set up here: ${unserved.map(describeUnserved).join('; ')}. ` +
              'Melodies that need one are not started by their triggers until one is; `symphony models` checks them.',
          ) + '\n',
        );
      }
      return 'it needs a model, and none is set up here';
    },
    start: (target, trigger) =>
      new Promise<string | undefined>((resolve, reject) => {
        const controller = new AbortController();
        running.add(controller);
        let runId: string | undefined;
        engine
          .loadMelodyFile(target.file)
          .then(({ melody, text, file }) =>
            engine.run({
              melody,
              text,
              file,
              trigger,
              signal: controller.signal,
              onEvent: (e: RunEvent) => {
                if (e.type === 'run-started' && !runId) resolve((runId = e.runId));
              },
            }),
          )
          .then((record) => dispatcher.runEnded({ runId: record.runId, melody: record.melody, status: record.state }))
          .catch((e: unknown) => (runId ? env.stderr(`symphony: ${(e as Error).message}\n`) : reject(e)))
          .finally(() => running.delete(controller));
      }),
  });
  dispatcher.refresh();

  const lines: string[] = [];
  if (webhooks) {
    const url = await dispatcher.listen(options.port ?? 8787, host);
    lines.push(`webhooks: ${url}${dispatcher.webhookPaths().map((p) => `\n  POST ${url}${p}`).join('') || ' (no melody has an on: webhook trigger)'}`);
  }
  const schedules = dispatcher.schedules();
  lines.push(`schedules: ${schedules.length ? schedules.map((s) => `\n  ${s.melody} "${s.cron}" next at ${s.next?.toISOString() ?? 'never'}`).join('') : 'none'}`);
  const chains = targets.filter((t) => t.melody.triggers?.some((tr) => tr.on === 'melody')).map((t) => t.melody.name);
  lines.push(`chained melodies: ${chains.join(', ') || 'none'}`);
  env.stdout(`${paint(env.color, 'bold', `symphony serve — ${root}`)}\n${lines.join('\n')}\nPress Ctrl+C to stop.\n`);

  // Melody and ensemble files may change while we serve: re-read them, debounced.
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(root, { recursive: true }, (_event, name) => {
    if (!name || !(name.endsWith('.melody.yaml') || name.includes('ensembles'))) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload().then(() => dispatcher.refresh()), 200);
  });

  await new Promise<void>((resolve) => {
    const stop = env.onInterrupt(() => {
      stop();
      resolve();
    });
  });
  env.stderr('stopping: cancelling running melodies…\n');
  watcher.close();
  clearTimeout(timer);
  for (const c of running) c.abort();
  await dispatcher.dispose();
  const deadline = Date.now() + 5000;
  while (running.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  printer.close();
  return 0;
}
