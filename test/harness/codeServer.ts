/**
 * Provisions and starts code-server: the real VS Code 1.100 server and web workbench,
 * whose extension host runs Symphony with the real `vscode` API. It is what `npm test` uses
 * because code-server installs from the npm registry, while @vscode/test-electron downloads
 * desktop VS Code from a server that build machines often cannot reach (`npm run
 * test:electron` uses it where they can).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The newest code-server that runs on Node 20; it carries VS Code 1.100.3. */
export const CODE_SERVER_VERSION = '4.100.3';

/** Debian packages that code-server's postinstall needs to build its native modules. */
export const CODE_SERVER_BUILD_PACKAGES = [
  'libkrb5-dev',
  'libx11-dev',
  'libxkbfile-dev',
  'libsecret-1-dev',
  'pkg-config',
  'ripgrep',
] as const;

/** The version of `@vscode/ripgrep` nested in code-server, and the `rg` release it wants. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_RELEASE = 'v13.0.0-10';

const INSTALL_TIMEOUT_MS = 20 * 60_000;
const LOCK_WAIT_TIMEOUT_MS = 25 * 60_000;
const START_TIMEOUT_MS = 90_000;

/** Where code-server is (or will be) installed: $SYMPHONY_CODE_SERVER_DIR or a per-user cache. */
export function codeServerDir(): string {
  const fromEnv = process.env.SYMPHONY_CODE_SERVER_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(os.homedir(), '.cache', 'symphony', `code-server-${CODE_SERVER_VERSION}`);
}

/** The script to run with `node`; launching it with our own Node avoids PATH surprises. */
function entryScript(dir: string): string {
  return path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/**
 * A finished install has the right version and VS Code's own dependencies (installed by
 * code-server's postinstall, the step that fails when Debian packages are missing).
 * Installs are renamed into place only after `npm install` succeeded, so a directory that
 * passes this check was never left half-done by us.
 */
function isCompleteInstall(dir: string): boolean {
  try {
    const pkg = JSON.parse(
      readFileSync(path.join(dir, 'node_modules', 'code-server', 'package.json'), 'utf8'),
    ) as { version?: unknown };
    const vscode = path.join(dir, 'node_modules', 'code-server', 'lib', 'vscode');
    return (
      pkg.version === CODE_SERVER_VERSION &&
      existsSync(entryScript(dir)) &&
      existsSync(path.join(vscode, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg')) &&
      existsSync(path.join(vscode, 'out', 'server-main.js'))
    );
  } catch {
    return false;
  }
}

/** The exact command that installs the given Debian packages. */
export function aptInstallCommand(packages: readonly string[]): string {
  return `apt-get update && apt-get install -y ${packages.join(' ')}`;
}

/**
 * Which of `packages` dpkg does not report as installed. On a machine without dpkg
 * (not Debian) nothing can be checked and the list is empty; the install then fails
 * with its own log if something is really missing.
 */
export async function missingDebianPackages(packages: readonly string[]): Promise<string[]> {
  let stdout = '';
  try {
    ({ stdout } = await execFileAsync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...packages]));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string };
    if (e.code === 'ENOENT') return [];
    // dpkg-query exits 1 when some package is unknown, still printing the known ones.
    stdout = e.stdout ?? '';
  }
  const installed = new Set(
    stdout
      .split('\n')
      .filter((line) => line.endsWith(' install ok installed'))
      .map((line) => line.split(' ')[0]!.split(':')[0]!),
  );
  return packages.filter((p) => !installed.has(p));
}

/** Throws a message naming the apt-get command when any of `packages` is missing. */
export async function requireDebianPackages(packages: readonly string[], purpose: string): Promise<void> {
  const missing = await missingDebianPackages(packages);
  if (missing.length > 0) {
    throw new Error(
      `${purpose} needs Debian packages that are not installed: ${missing.join(', ')}.\n` +
        `Install them (as root) with:\n\n    ${aptInstallCommand(missing)}\n`,
    );
  }
}

function ripgrepTarget(): string {
  switch (os.arch()) {
    case 'x64':
      return 'x86_64-unknown-linux-musl';
    case 'arm64':
      return 'aarch64-unknown-linux-musl';
    default:
      throw new Error(`No ripgrep cache seeding for architecture ${os.arch()}`);
  }
}

/**
 * `@vscode/ripgrep`'s postinstall downloads `rg` from GitHub, which these machines cannot
 * reach; it first looks in this cache, so we put Debian's `rg` there as the tarball it
 * expects (a single `rg` at the archive root).
 */
async function seedRipgrepCache(): Promise<void> {
  const cacheDir = path.join(os.tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const tarball = path.join(cacheDir, `ripgrep-${RIPGREP_RELEASE}-${ripgrepTarget()}.tar.gz`);
  if (existsSync(tarball)) return;
  const rg = '/usr/bin/rg';
  if (!existsSync(rg)) {
    throw new Error(`Installing code-server needs ${rg}.\nInstall it with:\n\n    ${aptInstallCommand(['ripgrep'])}\n`);
  }
  await fsp.mkdir(cacheDir, { recursive: true });
  const staging = await fsp.mkdtemp(path.join(cacheDir, 'staging-'));
  try {
    await fsp.copyFile(rg, path.join(staging, 'rg'));
    await fsp.chmod(path.join(staging, 'rg'), 0o755);
    const partial = path.join(staging, 'rg.tar.gz');
    await execFileAsync('tar', ['-czf', partial, '-C', staging, 'rg']);
    // Rename, so a concurrent postinstall never reads a half-written tarball.
    await fsp.rename(partial, tarball);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}

/** The header folder node-gyp needs; without it node-gyp downloads headers from nodejs.org. */
function localNodeDir(): string | undefined {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_version.h')) ? prefix : undefined;
}

/**
 * The environment for the nested `npm install`: without the `npm_*` variables of an
 * enclosing `npm run` (they would point the install at this repository), plus
 * `npm_config_yes=true` so node-pty's nested `npx node-gyp` does not refuse to run.
 */
function installEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  }
  env.npm_config_yes = 'true';
  const nodedir = process.env.npm_config_nodedir ?? localNodeDir();
  if (nodedir) env.npm_config_nodedir = nodedir;
  return env;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Holds `lockDir` (created with mkdir, which is atomic) while `fn` runs. Another process
 * holding it is waited for; a lock whose owner died is taken over.
 */
async function withInstallLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const owner = path.join(lockDir, 'owner');
  const deadline = Date.now() + LOCK_WAIT_TIMEOUT_MS;
  let announced = false;
  for (;;) {
    try {
      await fsp.mkdir(lockDir);
      await fsp.writeFile(owner, `${process.pid}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number.parseInt(await fsp.readFile(owner, 'utf8').catch(() => ''), 10);
    const age = Date.now() - (await fsp.stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    // A lock without an owner file is only stale once its creator had time to write it.
    if ((Number.isFinite(pid) && !isAlive(pid)) || (!Number.isFinite(pid) && age > 30_000)) {
      console.error(`[code-server] removing stale install lock ${lockDir}`);
      await fsp.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for the install lock ${lockDir} (held by pid ${pid})`);
    if (!announced) {
      console.error(`[code-server] waiting for another install to finish (lock ${lockDir}, pid ${pid})…`);
      announced = true;
    }
    await sleep(1000);
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lockDir, { recursive: true, force: true });
  }
}

/** Runs a command with output appended to `logFile`; rejects with the log's tail on failure. */
function runLogged(command: string, args: string[], cwd: string, logFile: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`$ ${command} ${args.join(' ')}   (in ${cwd})\n`);
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      log.end();
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end(() => {
        if (code === 0) resolve();
        else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}); last lines of ${logFile}:\n${tail(logFile, 40)}`));
      });
    });
  });
}

/** The last `lines` lines of a text file, or a note when it cannot be read. */
export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/**
 * Makes sure code-server is installed and returns the path of its entry script (run it
 * with `node`). The first call on a machine installs it (about a minute) into a temporary
 * sibling folder and renames it into place; concurrent callers wait on a lock.
 */
export async function ensureCodeServer(): Promise<string> {
  const dir = codeServerDir();
  if (isCompleteInstall(dir)) return entryScript(dir);
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  return withInstallLock(`${dir}.lock`, async () => {
    if (isCompleteInstall(dir)) return entryScript(dir); // someone else finished meanwhile
    await requireDebianPackages(CODE_SERVER_BUILD_PACKAGES, `Installing code-server ${CODE_SERVER_VERSION}`);
    await seedRipgrepCache();
    const partial = `${dir}.partial-${process.pid}`;
    const logFile = `${dir}.install.log`;
    // Holding the lock, any other partial folder belongs to an installer that died.
    const base = path.basename(dir);
    for (const name of await fsp.readdir(path.dirname(dir))) {
      if (name.startsWith(`${base}.partial-`)) await fsp.rm(path.join(path.dirname(dir), name), { recursive: true, force: true });
    }
    await fsp.mkdir(partial, { recursive: true });
    await fsp.writeFile(logFile, '');
    await fsp.writeFile(
      path.join(partial, 'package.json'),
      JSON.stringify(
        {
          name: 'symphony-code-server',
          private: true,
          description: 'code-server for Symphony tests',
          dependencies: { 'code-server': CODE_SERVER_VERSION },
          // npm 11 asks projects to list the dependencies whose install scripts may run.
          allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, argon2: true },
        },
        null,
        2,
      ) + '\n',
    );
    const started = Date.now();
    console.error(`[code-server] installing ${CODE_SERVER_VERSION} into ${dir} (about a minute; log: ${logFile})…`);
    try {
      await runLogged('npm', ['install', '--unsafe-perm', '--no-audit', '--no-fund', '--no-update-notifier'], partial, logFile, installEnv());
      if (!isCompleteInstall(partial)) {
        throw new Error(`npm install finished but ${partial} does not hold a complete code-server ${CODE_SERVER_VERSION}; see ${logFile}`);
      }
      if (existsSync(dir)) await fsp.rm(dir, { recursive: true, force: true }); // an incomplete leftover
      await fsp.rename(partial, dir);
    } catch (error) {
      await fsp.rm(partial, { recursive: true, force: true });
      throw error;
    }
    console.error(`[code-server] installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return entryScript(dir);
  });
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether `port` can be listened on at `host`. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Options for {@link startCodeServer}. */
export interface CodeServerOptions {
  /** Folder the workbench opens. */
  workspace: string;
  /** VS Code user data (settings, state, logs); created when missing. */
  userDataDir: string;
  /** Extensions folder; created when missing. */
  extensionsDir: string;
  /** Pass --disable-workspace-trust (everything except Restricted Mode tests wants this). */
  disableWorkspaceTrust?: boolean;
  /** User settings added to the quiet defaults (only when the user data folder is new). */
  settings?: Readonly<Record<string, unknown>>;
  /** Address to bind; 127.0.0.1 unless given. */
  host?: string;
  /** Port to bind; a free one unless given. */
  port?: number;
  /** Where code-server's stdout/stderr go; `<userDataDir>/code-server.log` unless given. */
  logFile?: string;
  /** Extra environment for the server and so for the extension host it forks. */
  env?: Record<string, string>;
}

/** A running code-server. */
export interface RunningCodeServer {
  /** Base URL ending in `/`, reachable from this machine. */
  url: string;
  host: string;
  port: number;
  pid: number;
  logFile: string;
  /** Resolves, with a description such as "exit code 1", when the server process ends. */
  exited: Promise<string>;
  /** The last lines of the server log, for error messages. */
  logTail(lines?: number): string;
  /** Stops the server and everything it started; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * User settings that keep the workbench quiet and deterministic: no welcome page, no
 * update or telemetry traffic on a machine without internet. Written only when the user
 * data folder has no settings yet, so the demo keeps what its user changed.
 */
const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.openRepositoryInParentFolders': 'never',
};

/** Writes the quiet defaults plus `extra` as the user settings of `userDataDir`, unless it has settings. */
export async function writeDefaultSettings(userDataDir: string, extra: Readonly<Record<string, unknown>> = {}): Promise<void> {
  const settings = path.join(userDataDir, 'User', 'settings.json');
  if (existsSync(settings)) return;
  await fsp.mkdir(path.dirname(settings), { recursive: true });
  await fsp.writeFile(settings, JSON.stringify({ ...DEFAULT_SETTINGS, ...extra }, null, 2) + '\n');
}

/**
 * The server's environment: ours minus variables that change how code-server behaves
 * ($PORT overrides --bind-addr; VSCODE_IPC_HOOK_CLI, set inside a VS Code terminal, turns
 * code-server into a client of that VS Code).
 */
function serverEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['PORT', 'PASSWORD', 'HASHED_PASSWORD', 'VSCODE_IPC_HOOK_CLI', 'VSCODE_PROXY_URI']) delete env[key];
  // A developer's model keys stay out: tests call no paid model, and see the workbench as a
  // new user does, with no model set up (code-server has no language models either).
  for (const key of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENROUTER_API_KEY']) delete env[key];
  return { ...env, ...extra };
}

/** Kills a process group: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
async function killGroup(child: ChildProcess, exited: Promise<unknown>, graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
  // The extension host and pty host are in the same group and may outlive the server.
  signal('SIGKILL');
  if (timedOut) await Promise.race([exited, sleep(2000)]);
}

/** Starts code-server and resolves once it answers HTTP. */
export async function startCodeServer(options: CodeServerOptions): Promise<RunningCodeServer> {
  const entry = await ensureCodeServer();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  await fsp.mkdir(options.userDataDir, { recursive: true });
  await fsp.mkdir(options.extensionsDir, { recursive: true });
  await writeDefaultSettings(options.userDataDir, options.settings);
  const logFile = options.logFile ?? path.join(options.userDataDir, 'code-server.log');
  await fsp.mkdir(path.dirname(logFile), { recursive: true });

  const args = [
    entry,
    '--auth', 'none',
    '--bind-addr', `${host}:${port}`,
    '--config', path.join(options.userDataDir, 'code-server-config.yaml'),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', options.userDataDir,
    '--extensions-dir', options.extensionsDir,
    ...(options.disableWorkspaceTrust ? ['--disable-workspace-trust'] : []),
    options.workspace,
  ];
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`$ ${process.execPath} ${args.join(' ')}\n`);
  // detached: its own process group, so stop() reaches the extension host and pty host too.
  const child = spawn(process.execPath, args, {
    cwd: options.workspace,
    env: serverEnv(options.env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let exitDescription: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exitDescription = sig ?? `exit code ${code}`;
      resolve();
    });
    child.on('error', (error) => {
      exitDescription = String(error);
      resolve();
    });
  });
  // If the harness dies without stopping us, do not leave a server behind.
  const onExit = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  process.on('exit', onExit);

  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}/`;
  let stopped: Promise<void> | undefined;
  const server: RunningCodeServer = {
    url,
    host,
    port,
    pid: child.pid!,
    logFile,
    exited: exited.then(() => exitDescription ?? 'exited'),
    logTail: (lines = 40) => tail(logFile, lines),
    stop() {
      stopped ??= (async () => {
        process.off('exit', onExit);
        if (exitDescription === undefined) await killGroup(child, exited);
        else onExit(); // the server is gone; its children may not be
        await new Promise<void>((resolve) => log.end(resolve));
      })();
      return stopped;
    },
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitDescription !== undefined) {
      await server.stop();
      throw new Error(`code-server exited while starting (${exitDescription}); last lines of ${logFile}:\n${server.logTail()}`);
    }
    try {
      const response = await fetch(`${url}healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s; last lines of ${logFile}:\n${server.logTail()}`);
    }
    await sleep(200);
  }
}
