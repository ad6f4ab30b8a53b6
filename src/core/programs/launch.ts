import { promises as fsp } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { permanentError } from '../nodes/support';
import type { NodeContext } from '../nodes/types';
import { variable } from './environment';
import { NETWORK_HELPER } from './networkHelper';
import type { NetworkProxy, ProxyListen } from './proxy';
import { bwrapArguments, installationOf, PROXY_SOCKET, seatbeltProfile, type SandboxPlan } from './sandbox';
import { ProtectedWalks, refuseCreated, type ProtectedPath } from './scopes';

/** What launching needs of a node's context. */
export type LaunchContext = Pick<NodeContext, 'permissions' | 'workspaceRoot' | 'programs' | 'log'>;

/** A program, resolved and allowed, with its environment — before any sandbox. */
export interface ProgramSpec {
  /** The absolute path it was resolved to. */
  readonly executable: string;
  /** As the melody named it, for messages. */
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** What to spawn — the sandbox's command line around the program — and what to do once it ended. */
export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /**
   * Kill what is left in the process group once the sandbox's program exits. bubblewrap's
   * init waits for every process inside, so a server the program left behind would keep
   * the sandbox — and the node's output — open; the sandbox ends with its program.
   */
  readonly stopRestOnExit: boolean;
  /**
   * The exit status as the program ended. bubblewrap reports a program killed by signal N
   * as exit code 128 + N (as shells do), so inside it the two cannot be told apart and
   * are reported as the signal.
   */
  status(exitCode: number | null, exitSignal: NodeJS.Signals | null): { exitCode: number | null; exitSignal: NodeJS.Signals | null };
  /**
   * Stops the proxy and removes temporary files; then refuses (throws, after renaming
   * them) never-writable paths the program created — which no mount can prevent.
   */
  finish(): Promise<void>;
}

/**
 * What the nodes of one guard (a run's, a sub-melody's) share when they plan their
 * sandboxes: the walks for never-writable paths, and the real paths of the workspace and
 * of the home folder — resolved once, as the guard resolves its root once per run.
 */
interface Shared {
  readonly walks: ProtectedWalks;
  readonly real: Map<string, Promise<string | undefined>>;
}
const sharedOf = new WeakMap<LaunchContext['permissions'], Shared>();
function shared(guard: LaunchContext['permissions']): Shared {
  let s = sharedOf.get(guard);
  if (!s) sharedOf.set(guard, (s = { walks: new ProtectedWalks((rel) => guard.neverWritable(rel)), real: new Map() }));
  return s;
}
const protectedWalks = (guard: LaunchContext['permissions']) => shared(guard).walks;

/** The real path of an absolute `path` (undefined when there is none), looked up once per guard; a failed lookup is tried again. */
function realOnce(guard: LaunchContext['permissions'], path: string): Promise<string | undefined> {
  const { real } = shared(guard);
  let found = real.get(path);
  if (!found) {
    found = fsp.realpath(path).then(
      (r) => r,
      () => (real.delete(path), undefined),
    );
    real.set(path, found);
  }
  return found;
}

/** Loopback hosts. */
const LOOPBACK = ['localhost', '127.0.0.1', '::1'];
const LOOPBACK_NAMES = LOOPBACK.join(',');
/** Whether `permissions.network` names a loopback host (`localhost`, `127.0.0.1:11434`, `[::1]`…). */
const namesLoopback = (network: readonly string[] | undefined) =>
  (network ?? []).some((h) => LOOPBACK.includes(h.toLowerCase().replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([^:]*):\d+$/, '$1')));
/** Folders every sandbox hides or replaces whatever the home folder is; a program installed there is shown again. */
const ALWAYS_HIDDEN = ['/tmp', '/run'];

/**
 * Wraps a program in the OS sandbox the machine has (see sandbox.ts), or — when the melody
 * and every melody above it say `permissions.sandbox: off` — runs it as it is, saying so
 * in the node's log. Where there is no sandbox, the program does not run.
 */
export async function launch(ctx: LaunchContext, program: ProgramSpec): Promise<Launch> {
  const guard = ctx.permissions;
  const unchanged = (exitCode: number | null, exitSignal: NodeJS.Signals | null) => ({ exitCode, exitSignal });
  if (guard.unsandboxed) {
    ctx.log('info', `${program.name} runs unsandboxed (permissions.sandbox: off)\n`);
    return { command: program.executable, args: program.args, env: program.env, cwd: program.cwd, stopRestOnExit: false, status: unchanged, finish: async () => undefined };
  }
  const support = await ctx.programs.sandbox();
  if (support.kind === 'none') throw permanentError(`${program.name} cannot run: ${support.why}, or set permissions.sandbox: off to let this melody run programs unsandboxed`);

  const plan = await planSandbox(ctx, program);
  const before = new Set(plan.protected.map((p) => p.rel));
  const cleanups: (() => Promise<void>)[] = [];
  const finish = async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    const root = plan.sandbox.workspace;
    const created = (await protectedWalks(guard).find(root, plan.sandbox.writable)).filter((p) => p.rule.executes && !before.has(p.rel));
    if (created.length) await refuse(root, program.name, created);
  };
  const network = guard.networkScope();
  /** The allow-list proxy of this program, closed with it. */
  const proxyOn = async (listen: ProxyListen): Promise<NetworkProxy> => {
    const onRefused = (target: string, why: string) => ctx.log('info', `refused ${program.name} network access to ${target}: ${why}\n`);
    // Loaded with the first sandbox that reaches the network: `node:http` is milliseconds of
    // every start that never needs it.
    const { startProxy } = await import('./proxy');
    const proxy = await startProxy(listen, (url) => guard.checkNetwork(url), onRefused);
    cleanups.unshift(() => proxy.close());
    return proxy;
  };
  try {
    if (support.kind === 'bwrap') {
      let sandbox: SandboxPlan = plan.sandbox;
      let argv = [program.executable, ...program.args];
      let env: Record<string, string> = { ...program.env, TMPDIR: '/tmp' };
      for (const name of ['TMP', 'TEMP']) if (env[name] !== undefined) env[name] = '/tmp';
      if (network === 'hosts') {
        const dir = await fsp.mkdtemp(join(tmpdir(), 'symphony-proxy-'));
        cleanups.push(() => fsp.rm(dir, { recursive: true, force: true }));
        const socket = join(dir, 'proxy.sock');
        await proxyOn({ path: socket });
        const { node } = ctx.programs;
        sandbox = { ...sandbox, network: { kind: 'proxy', socket }, shown: [...sandbox.shown, installationOf(dirname(node.path), sandbox.hidden)] };
        argv = [node.path, '-e', NETWORK_HELPER, PROXY_SOCKET, ...argv];
        env = { ...env, ...node.env };
        // Loopback is the sandbox's own (a test's server), unless the melody names a
        // loopback host: then it means the machine's, reached through the proxy.
        if (!namesLoopback(guard.permissions.network)) env = { ...env, NO_PROXY: LOOPBACK_NAMES, no_proxy: LOOPBACK_NAMES };
      }
      return { command: support.path, args: [...bwrapArguments(sandbox), ...argv], env, cwd: sandbox.cwd, stopRestOnExit: true, status: signalFromStatus, finish };
    }
    // macOS: sandbox-exec. No private /tmp: a temporary folder of the program's own instead.
    const tmp = await fsp.mkdtemp(join(tmpdir(), 'symphony-program-'));
    cleanups.push(() => fsp.rm(tmp, { recursive: true, force: true }));
    let env: Record<string, string> = { ...program.env, TMPDIR: tmp };
    const proxy = network === 'hosts' ? await proxyOn({ loopback: true }) : undefined;
    if (proxy) {
      const url = `http://127.0.0.1:${proxy.port}`;
      env = { ...env, HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, https_proxy: url };
    }
    const profile = seatbeltProfile(plan.sandbox, { tmp, proxyPort: proxy?.port, loopback: namesLoopback(guard.permissions.network) });
    return { command: support.path, args: ['-p', profile, program.executable, ...program.args], env, cwd: plan.sandbox.cwd, stopRestOnExit: false, status: unchanged, finish };
  } catch (e) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw e;
  }
}

/** The sandbox's view of the machine for one program, and the never-writable paths it found. */
async function planSandbox(ctx: LaunchContext, program: ProgramSpec): Promise<{ sandbox: SandboxPlan; protected: ProtectedPath[] }> {
  const guard = ctx.permissions;
  const { startEnv, platform } = ctx.programs;
  // Independent lookups, asked together: on a busy machine each waits its turn in the thread pool.
  const home = variable(startEnv, 'HOME', platform);
  const root = () => realOnce(guard, ctx.workspaceRoot).then((real) => real ?? fsp.realpath(ctx.workspaceRoot));
  const [workspace, scopes, homeReal, cwd] = await Promise.all([
    root(),
    guard.writableScopes(),
    home && isAbsolute(home) ? realOnce(guard, home) : undefined,
    program.cwd === ctx.workspaceRoot ? root() : fsp.realpath(program.cwd),
  ]);
  const found = await protectedWalks(guard).find(workspace, scopes);
  // A scope that is never writable as a whole (`write: [".vscode/**"]`) is not bound writable at all.
  const writable = scopes.filter((s) => !found.some((p) => p.abs === s));
  const hidden = homeReal && homeReal !== '/' && !ALWAYS_HIDDEN.includes(homeReal) ? [homeReal] : [];
  const inHidden = (p: string) => [...ALWAYS_HIDDEN, ...hidden].some((h) => p === h || p.startsWith(h + sep));
  const installed = [dirname(program.executable), ...(variable(startEnv, 'PATH', platform) ?? '').split(':').filter((d) => isAbsolute(d))];
  const shown = [...new Set(installed.filter(inHidden).map((d) => installationOf(d, [...ALWAYS_HIDDEN, ...hidden])))];
  return {
    sandbox: {
      workspace,
      writable,
      readOnly: found.map((p) => p.abs),
      hidden,
      shown,
      network: guard.networkScope() === 'all' ? { kind: 'all' } : { kind: 'none' },
      cwd,
    },
    protected: found,
  };
}

/**
 * Renames what the program created where no node may write, then fails the node saying so
 * — unless all of it was gone already (renamed by the check of a node that ended with it).
 */
async function refuse(root: string, name: string, created: ProtectedPath[]): Promise<void> {
  const sorted = [...created].sort((a, b) => a.rel.localeCompare(b.rel));
  const refused = await refuseCreated(root, sorted);
  if (!refused.length) return;
  const why = [...new Set(refused.map((r) => r.path.rule.why))].join('; ');
  throw permanentError(`${name} created ${refused.map((r) => r.path.rel).join(', ')}, which no node may write (${why}); Symphony renamed them to ${refused.map((r) => r.renamed).join(', ')}`);
}

const SIGNALS = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** bubblewrap's 128 + N back into signal N. */
function signalFromStatus(exitCode: number | null, exitSignal: NodeJS.Signals | null): { exitCode: number | null; exitSignal: NodeJS.Signals | null } {
  const signal = exitCode !== null && exitCode > 128 ? SIGNALS.get(exitCode - 128) : undefined;
  return signal ? { exitCode: null, exitSignal: signal } : { exitCode, exitSignal };
}
