import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { signalGroup } from '../store/processes';

/**
 * Where nodes' programs are spawned from (POSIX): small long-lived Node processes of
 * Symphony's, not Symphony itself. Spawning forks, and a fork copies the page tables of the
 * process that forks, so each spawn blocks the thread that calls it for longer the more
 * memory that process holds — milliseconds per program in the CLI and more in the
 * extension host, on the thread every node of the run shares. A helper holds little
 * memory and does nothing else: it spawns what it is asked to (an argument array, never a
 * shell), each program in a process group of its own, writes the program's stdin, and
 * streams back its pid, its output, its exit and its close. Everything else stays here:
 * stopping a program's tree signals its process group directly, and the pid is the group
 * recorded for a resume. When Symphony's end of a helper's stdin closes (Symphony exited
 * or was killed), the helper exits and leaves the programs to the run's resume, as
 * Symphony's own death would; when a helper dies, each program it started is stopped and
 * fails to start over, and the next program starts a new helper in its place. There are
 * several (`defaultHelpers`), since a spawn blocks its helper until the program has
 * started: each program goes to the one with the fewest programs still starting.
 *
 * Requests and replies are JSON lines on its stdin and stdout. Plain JavaScript run with
 * `node -e`.
 */
export const SPAWNER = `
const { spawn } = require('child_process');
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buffer += d;
  for (let i = buffer.indexOf('\\n'); i >= 0; i = buffer.indexOf('\\n')) {
    const line = buffer.slice(0, i);
    buffer = buffer.slice(i + 1);
    if (line) start(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));
function start(r) {
  let child;
  try {
    child = spawn(r.command, r.args, { shell: false, detached: true, cwd: r.cwd, env: r.env, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return send({ t: 'error', id: r.id, code: e.code, message: e.message });
  }
  child.on('error', (e) => send({ t: 'error', id: r.id, code: e.code, message: e.message }));
  if (child.pid !== undefined) send({ t: 'pid', id: r.id, pid: child.pid });
  for (const s of ['stdout', 'stderr']) child[s].on('data', (c) => send({ t: 'data', id: r.id, s, d: c.toString('base64') }));
  child.on('exit', (code, signal) => send({ t: 'exit', id: r.id, code, signal }));
  child.on('close', (code, signal) => send({ t: 'close', id: r.id, code, signal }));
  child.stdin.on('error', () => {});
  child.stdin.end(r.stdin);
}
`;

/** A program to spawn through the helper: always detached (a process group of its own), always piped. */
export interface SpawnRequest {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

type Reply =
  | { t: 'pid'; id: number; pid: number }
  | { t: 'error'; id: number; code?: string; message: string }
  | { t: 'data'; id: number; s: 'stdout' | 'stderr'; d: string }
  | { t: 'exit' | 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

/**
 * A program started by the helper, as runProgram sees a child process: `spawned` (its pid),
 * `data` (stream, bytes), `exit` and `close` (code, signal), `error` (an errno-style error).
 */
export class HelperChild extends EventEmitter {
  pid: number | undefined;
  /** Windows, spawned directly: kills the child alone (taskkill could not run). */
  kill?: () => void;
}

/** One helper process and the programs it started that have not closed yet. */
interface Helper {
  readonly process: ChildProcess;
  readonly children: Map<number, HelperChild>;
  /** Requests sent whose pid (or failure) has not come back: what it is still spawning. */
  starting: number;
}

/**
 * How many helpers spawn at once: one per core, up to four. Node's spawn blocks the helper
 * until the program has exec'd, so one helper starts the programs of a level one after
 * another — the eighth waits for seven spawns — where several start them side by side.
 */
export function defaultHelpers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** The helpers of this process, started on first use; a new one after one died. */
export class Spawner {
  private readonly helpers: (Helper | undefined)[];
  private nextId = 1;

  constructor(
    private readonly node: { readonly path: string; readonly env: Readonly<Record<string, string>> } = {
      path: process.execPath,
      env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {},
    },
    /** How many helpers spawn side by side. */
    size: number = defaultHelpers(),
  ) {
    this.helpers = new Array<Helper | undefined>(Math.max(1, size)).fill(undefined);
  }

  /**
   * Starts a program; its events follow on the returned child. It goes to the helper with
   * the fewest programs still starting (the first such, so a lone program always goes to
   * the first helper).
   */
  spawn(request: SpawnRequest): HelperChild {
    this.startAll();
    const helper = this.helpers.reduce((best, h) => (h && best && h.starting < best.starting ? h : best), this.helpers[0])!;
    const id = this.nextId++;
    const child = new HelperChild();
    helper.children.set(id, child);
    helper.starting++;
    this.holdOpen(helper);
    helper.process.stdin!.write(JSON.stringify({ id, ...request }) + '\n');
    return child;
  }

  /**
   * Starts the helpers ahead of the first program — a Node process takes tens of
   * milliseconds to boot, which would otherwise be spent by the first nodes of a run. An
   * idle helper does not keep Symphony running.
   */
  prestart(): void {
    this.startAll();
  }

  /** The first helper's pid while it runs (for tests). */
  get helperPid(): number | undefined {
    return this.helpers[0]?.process.pid;
  }

  /** Every running helper's pid (for tests). */
  get helperPids(): number[] {
    return this.helpers.flatMap((h) => (h?.process.pid !== undefined ? [h.process.pid] : []));
  }

  private startAll(): void {
    for (let i = 0; i < this.helpers.length; i++) this.helpers[i] ??= this.startHelper(i);
  }

  private startHelper(slot: number): Helper {
    const proc = spawn(this.node.path, ['-e', SPAWNER], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...this.node.env }, windowsHide: true });
    const helper: Helper = { process: proc, children: new Map(), starting: 0 };
    let buffer = '';
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      buffer += d;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (!line) continue;
        let reply: Reply;
        try {
          reply = JSON.parse(line) as Reply;
        } catch {
          continue; // Not a reply (nothing but replies is written there): never a reason to fail the run.
        }
        this.receive(helper, reply);
      }
    });
    // Writing to a helper that just died: its exit below fails what it had.
    proc.stdin!.on('error', () => undefined);
    const gone = () => {
      if (this.helpers[slot] !== helper) return;
      this.helpers[slot] = undefined;
      const orphans = [...helper.children.values()];
      helper.children.clear();
      for (const child of orphans) {
        // Its program may still run, in a group of its own that nobody reads: stopped.
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        const error = Object.assign(new Error('the helper that starts programs ended unexpectedly'), { code: 'EHELPER' });
        child.emit('error', error);
      }
    };
    proc.on('exit', gone);
    proc.on('error', gone);
    this.holdOpen(helper);
    return helper;
  }

  private receive(helper: Helper, reply: Reply): void {
    const child = helper.children.get(reply.id);
    if (!child) return;
    switch (reply.t) {
      case 'pid':
        helper.starting--;
        child.pid = reply.pid;
        child.emit('spawned', reply.pid);
        return;
      case 'data':
        child.emit('data', reply.s, Buffer.from(reply.d, 'base64'));
        return;
      case 'error':
        // A program that never started has no close to wait for.
        child.emit('error', Object.assign(new Error(reply.message), { code: reply.code }));
        if (child.pid === undefined) {
          helper.starting--;
          this.forget(helper, reply.id);
        }
        return;
      case 'exit':
        child.emit('exit', reply.code, reply.signal);
        return;
      case 'close':
        this.forget(helper, reply.id);
        child.emit('close', reply.code, reply.signal);
        return;
    }
  }

  private forget(helper: Helper, id: number): void {
    helper.children.delete(id);
    this.holdOpen(helper);
  }

  /** A helper keeps Symphony running only while a program of it does. */
  private holdOpen(helper: Helper): void {
    const busy = helper.children.size > 0;
    for (const handle of [helper.process, helper.process.stdout, helper.process.stdin] as (ChildProcess | { ref?(): void; unref?(): void } | null)[]) {
      if (busy) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}

let shared: Spawner | undefined;

/** The spawner of this process. */
export function sharedSpawner(): Spawner {
  return (shared ??= new Spawner());
}
