import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { baseEnvironment, variable } from '../programs/environment';
import { launch } from '../programs/launch';
import { resolveProgram } from '../programs/resolve';
import { HelperChild, sharedSpawner, type SpawnRequest, type Spawner } from '../programs/spawner';
import { endProcesses, PROGRAM_MARKER, signalGroup } from '../store/processes';
import { isWorkspaceRoot, permanentError } from './support';
import { NodeError, type NodeContext, type NodeImplementation } from './types';

/** Characters of stdout (and of stderr) a node keeps; a runaway program must not exhaust memory. */
export const OUTPUT_LIMIT = 10 * 1024 * 1024;
/** stderr lines quoted in the error of a failed program: enough to see why, short enough to read. */
const STDERR_TAIL_LINES = 5;
const TAIL_CHARS = 4096;
const IS_WINDOWS = process.platform === 'win32';

/** What a program printed and how it ended. */
export interface ProgramResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when a signal ended it. */
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  /** The last non-empty lines of stderr, for error messages (kept even when stderr was truncated). */
  readonly stderrTail: readonly string[];
}

/** How to run one program. */
export interface ProgramRequest {
  readonly command: string;
  /** The program as the melody named it, for messages (default: `command`). */
  readonly name?: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: string;
  /** Aborting stops the program and everything it started. */
  readonly signal: AbortSignal;
  /** Receives output as it arrives. */
  readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /**
   * When the program exits, kill what it left running in its process group. For a
   * sandbox, whose processes are all the program's: the sandbox ends with it.
   */
  readonly stopRestOnExit?: boolean;
  /** Told the program's pid — also its process group — as soon as it is started. */
  readonly onSpawn?: (pid: number) => void;
  /** What spawns it: this process's helper (programs/spawner.ts) by default on POSIX, `direct` this process itself. */
  readonly via?: Spawner | 'direct';
}

/**
 * Runs a program with an argument array — never through a shell, so nothing in `args`
 * is interpreted — streaming and collecting its output. Resolves whatever the exit code;
 * rejects when the program cannot start or the signal aborts. On abort the whole process
 * tree is stopped, not just the direct child: a `npm test` that started a server must not
 * leave the server running.
 */
export function runProgram(request: ProgramRequest): Promise<ProgramResult> {
  const { signal } = request;
  const command = request.name ?? request.command;
  if (signal.aborted) return Promise.reject(stoppedError(command, signal));
  return new Promise<ProgramResult>((resolvePromise, reject) => {
    let child: HelperChild;
    try {
      const via = request.via ?? (IS_WINDOWS ? 'direct' : sharedSpawner());
      const what = { command: request.command, args: [...request.args], cwd: request.cwd, env: { ...request.env }, stdin: request.stdin ?? '' };
      child = via === 'direct' ? spawnDirect(what) : via.spawn(what);
    } catch (e) {
      // Arguments Node refuses outright, such as one holding a NUL byte.
      return reject(spawnError(command, e as NodeJS.ErrnoException));
    }
    if (child.pid !== undefined) request.onSpawn?.(child.pid);
    else child.once('spawned', (pid: number) => request.onSpawn?.(pid));
    const captured = { stdout: new Captured(), stderr: new Captured() };
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const take = (stream: 'stdout' | 'stderr', text: string) => {
      if (!text) return;
      captured[stream].add(text);
      request.onOutput?.(stream, text);
    };
    child.on('data', (stream: 'stdout' | 'stderr', chunk: Buffer) => take(stream, decoders[stream].write(chunk)));

    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = () => {
      void stopTree(child).then(() => settle(() => reject(stoppedError(command, signal))));
    };
    signal.addEventListener('abort', onAbort, { once: true });

    child.on('error', (e: NodeJS.ErrnoException) => settle(() => reject(spawnError(command, e))));
    // Processes it left behind may hold its output open, so this comes before 'close'.
    if (request.stopRestOnExit && !IS_WINDOWS) {
      child.on('exit', () => {
        if (!signal.aborted && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      });
    }
    child.on('close', (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      take('stdout', decoders.stdout.end());
      take('stderr', decoders.stderr.end());
      // Once aborted, the run ends when the whole tree is gone, not when the child is.
      if (signal.aborted) return;
      const { stdout, stderr } = captured;
      settle(() => resolvePromise({ stdout: stdout.text(), stderr: stderr.text(), exitCode, exitSignal, stderrTail: stderr.lastLines(STDERR_TAIL_LINES) }));
    });
  });
}

/**
 * A program spawned by this process itself, with the events of one the helper started
 * (programs/spawner.ts): on Windows, which has no process groups to keep apart and no fork
 * to spare, and where a caller asks for it.
 */
function spawnDirect(request: SpawnRequest): HelperChild {
  const proc = spawn(request.command, [...request.args], {
    shell: false,
    // Its own process group, so the group can be signalled as a whole. On Windows a
    // detached child gets a console window of its own instead; taskkill /T walks the tree.
    detached: !IS_WINDOWS,
    windowsHide: true,
    cwd: request.cwd,
    env: { ...request.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child = new HelperChild();
  child.pid = proc.pid;
  child.kill = () => proc.kill();
  for (const stream of ['stdout', 'stderr'] as const) proc[stream]!.on('data', (chunk: Buffer) => child.emit('data', stream, chunk));
  proc.on('error', (e) => child.emit('error', e));
  proc.on('exit', (code, sig) => child.emit('exit', code, sig));
  proc.on('close', (code, sig) => child.emit('close', code, sig));
  // A program that exits without reading its input closes the pipe: EPIPE is not our failure.
  proc.stdin!.on('error', () => undefined);
  proc.stdin!.end(request.stdin);
  return child;
}

/** A program a node (or an agent's `run` tool, or a script instrument) asks to run. */
export interface NodeProgram {
  readonly command: string;
  readonly args?: readonly string[];
  /** Relative to the workspace root; the root by default. */
  readonly cwd?: string;
  /** Variables on top of the node's `env:`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

/** What runNodeProgram needs of a node's context. */
export type ProgramContext = Pick<NodeContext, 'permissions' | 'workspaceRoot' | 'env' | 'programs' | 'signal' | 'log' | 'programStarted'>;

/**
 * Runs a program on behalf of a node: only when `permissions.commands` lists it, found on
 * the PATH Symphony started with (a node's `env:` cannot point `node` at a planted file),
 * in a working directory inside the workspace, with a minimal environment plus the
 * variables the node names (those that decide what runs only when `permissions.env` lists
 * them), inside the OS sandbox (programs/launch.ts: the write scopes and the network are
 * enforced on the program too), stopped with the node's signal. Every way a melody starts
 * a program goes through here — and so every program is reported to the run
 * (`programStarted`) with its process group and a marker in its environment that its
 * descendants inherit, so a run killed outright can have what it left running ended when
 * it is resumed.
 */
export async function runNodeProgram(ctx: ProgramContext, program: NodeProgram): Promise<ProgramResult> {
  ctx.permissions.checkCommand(program.command);
  const named = { ...ctx.env, ...program.env };
  ctx.permissions.checkEnv(Object.keys(named));
  const cwd = await workingDirectory(ctx, program.cwd);
  const { startEnv, platform } = ctx.programs;
  const search = { path: variable(startEnv, 'PATH', platform), pathext: variable(startEnv, 'PATHEXT', platform), platform };
  const executable = await (ctx.programs.lookups ? ctx.programs.lookups.resolve(program.command, cwd, search) : resolveProgram(program.command, cwd, search));
  if (!executable) throw notFound(program.command);
  const token = randomBytes(12).toString('hex');
  const launched = await launch(ctx, { executable, name: program.command, args: program.args ?? [], env: { ...baseEnvironment(startEnv, platform), ...named, [PROGRAM_MARKER]: token }, cwd });
  let result: ProgramResult;
  try {
    const { command, args, env, cwd: where, stopRestOnExit } = launched;
    result = await runProgram({
      command,
      args,
      env,
      cwd: where,
      stopRestOnExit,
      name: program.command,
      stdin: program.stdin,
      signal: ctx.signal,
      onOutput: program.onOutput,
      onSpawn: (pid) => ctx.programStarted({ pid, command: program.command, token }),
    });
  } finally {
    await launched.finish();
  }
  return { ...result, ...launched.status(result.exitCode, result.exitSignal) };
}

/** How a program ended, in words, with the last lines of its stderr: `npm exited with code 1:\n…`. */
export function programFailure(command: string, result: ProgramResult): string {
  const how = result.exitCode === null ? `was killed by ${result.exitSignal ?? 'a signal'}` : `exited with code ${result.exitCode}`;
  const tail = result.stderrTail.length ? `:\n${result.stderrTail.join('\n')}` : '';
  return `${command} ${how}${tail}`;
}

/** Runs `with.command` with `with.args`. Output: `{ stdout, stderr, exitCode }`. */
export const shellNode: NodeImplementation<'shell'> = {
  kind: 'shell',
  async run(input, ctx) {
    const result = await runNodeProgram(ctx, { ...input, onOutput: (stream, text) => ctx.log(stream, text) });
    const output = { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
    // Retryable: tests flake and networks drop; the melody's `retry:` decides whether to try again.
    // The output stays readable: a `continue-on-error` lint step still hands its report on.
    if (result.exitCode !== 0) throw new NodeError(programFailure(input.command, result), { retryable: true, output });
    return { output };
  },
};

/**
 * The working directory: the workspace root, or `cwd` resolved inside it. The guard
 * refuses the root itself as a path, so `.` is recognised before asking it.
 */
async function workingDirectory(ctx: Pick<NodeContext, 'permissions' | 'workspaceRoot'>, cwd: string | undefined): Promise<string> {
  if (cwd === undefined || isWorkspaceRoot(ctx.workspaceRoot, cwd)) return ctx.workspaceRoot;
  const dir = await ctx.permissions.resolveRead(cwd);
  if (!(await fsp.stat(dir)).isDirectory()) throw permanentError(`cwd ${cwd} is not a folder`);
  return dir;
}

function notFound(command: string, cause?: unknown): NodeError {
  const where = /[\\/]/.test(command) ? '' : ' on PATH';
  return permanentError(`program ${command} was not found${where}`, cause);
}

function spawnError(command: string, e: NodeJS.ErrnoException): NodeError {
  // The helper that spawned it died (programs/spawner.ts): nothing about the program itself.
  if (e.code === 'EHELPER') return new NodeError(`${command} was stopped: ${e.message}`, { retryable: true, cause: e });
  if (e.code === 'ENOENT') return notFound(command, e);
  if (e.code === 'EACCES') return permanentError(`program ${command} cannot be run: permission denied (is it executable?)`, e);
  return permanentError(`program ${command} could not start: ${e.message}`, e);
}

function stoppedError(command: string, signal: AbortSignal): NodeError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
  return new NodeError(`${command} was stopped (${why})`, { retryable: true, cause: reason });
}

/** SIGTERM to the whole tree; SIGKILL to what is left after the grace period. */
async function stopTree(child: HelperChild): Promise<void> {
  // Through the helper, the pid follows the request: a program still starting is waited for.
  const pid = child.pid ?? (await new Promise<number | undefined>((done) => {
    child.once('spawned', done);
    child.once('error', () => done(undefined));
    child.once('close', () => done(undefined));
  }));
  if (pid === undefined) return;
  if (IS_WINDOWS) {
    // Windows has no process groups to signal; taskkill walks the tree by parent id.
    await new Promise<void>((done) => {
      const killer = spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
      killer.on('error', () => {
        child.kill?.();
        done();
      });
      killer.on('close', () => done());
    });
    return;
  }
  await endProcesses([pid], []);
}

/**
 * Output kept up to OUTPUT_LIMIT characters (with a note saying how much was dropped), plus
 * a rolling tail so the end of a huge stderr can still be quoted.
 */
class Captured {
  private head = '';
  private dropped = 0;
  private tail = '';

  add(text: string): void {
    const room = OUTPUT_LIMIT - this.head.length;
    if (room > 0) this.head += text.slice(0, room);
    this.dropped += Math.max(0, text.length - Math.max(room, 0));
    this.tail = (this.tail + text).slice(-TAIL_CHARS);
  }

  text(): string {
    return this.dropped ? `${this.head}\n[output truncated: ${this.dropped} more characters were not kept]\n` : this.head;
  }

  lastLines(n: number): string[] {
    return this.tail
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .slice(-n);
  }
}

