import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { signalGroup } from '../store/processes';

/**
 * Where nodes' programs are spawned from (POSIX): a small long-lived Node process of
 * Symphony's, not Symphony itself. Spawning forks, and a fork copies the page tables of the
 * process that forks, so each spawn blocks the thread that calls it for longer the more
 * memory that process holds — milliseconds per program in the CLI and more in the
 * extension host, on the thread every node of the run shares. The helper holds little
 * memory and does nothing else: it spawns what it is asked to (an argument array, never a
 * shell), each program in a process group of its own, writes the program's stdin, and
 * streams back its pid, its output, its exit and its close. Everything else stays here:
 * stopping a program's tree signals its process group directly, and the pid is the group
 * recorded for a resume. When Symphony's end of the helper's stdin closes (Symphony exited
 * or was killed), the helper exits and leaves the programs to the run's resume, as
 * Symphony's own death would; when the helper dies, each program it started is stopped and
 * fails to start over, and the next program starts a new helper.
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

/** The helper of this process, started on first use; a new one after it died. */
export class Spawner {
  private helper: ChildProcess | undefined;
  private readonly children = new Map<number, HelperChild>();
  private nextId = 1;

  constructor(
    private readonly node: { readonly path: string; readonly env: Readonly<Record<string, string>> } = {
      path: process.execPath,
      env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {},
    },
  ) {}

  /** Starts a program; its events follow on the returned child. */
  spawn(request: SpawnRequest): HelperChild {
    const helper = this.started();
    const id = this.nextId++;
    const child = new HelperChild();
    this.children.set(id, child);
    this.holdOpen();
    helper.stdin!.write(JSON.stringify({ id, ...request }) + '\n');
    return child;
  }

  /**
   * Starts the helper ahead of the first program — a Node process takes tens of
   * milliseconds to boot, which would otherwise be spent by the first nodes of a run. An
   * idle helper does not keep Symphony running.
   */
  prestart(): void {
    this.started();
  }

  /** The helper's pid while it runs (for tests). */
  get helperPid(): number | undefined {
    return this.helper?.pid;
  }

  private started(): ChildProcess {
    if (this.helper) return this.helper;
    const helper = spawn(this.node.path, ['-e', SPAWNER], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...this.node.env }, windowsHide: true });
    this.helper = helper;
    let buffer = '';
    helper.stdout!.setEncoding('utf8');
    helper.stdout!.on('data', (d: string) => {
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
        this.receive(reply);
      }
    });
    // Writing to a helper that just died: its exit below fails what it had.
    helper.stdin!.on('error', () => undefined);
    const gone = () => {
      if (this.helper !== helper) return;
      this.helper = undefined;
      const orphans = [...this.children.values()];
      this.children.clear();
      for (const child of orphans) {
        // Its program may still run, in a group of its own that nobody reads: stopped.
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        const error = Object.assign(new Error('the helper that starts programs ended unexpectedly'), { code: 'EHELPER' });
        child.emit('error', error);
      }
    };
    helper.on('exit', gone);
    helper.on('error', gone);
    this.holdOpen();
    return helper;
  }

  private receive(reply: Reply): void {
    const child = this.children.get(reply.id);
    if (!child) return;
    switch (reply.t) {
      case 'pid':
        child.pid = reply.pid;
        child.emit('spawned', reply.pid);
        return;
      case 'data':
        child.emit('data', reply.s, Buffer.from(reply.d, 'base64'));
        return;
      case 'error':
        child.emit('error', Object.assign(new Error(reply.message), { code: reply.code }));
        // A program that never started has no close to wait for.
        if (child.pid === undefined) this.forget(reply.id);
        return;
      case 'exit':
        child.emit('exit', reply.code, reply.signal);
        return;
      case 'close':
        this.forget(reply.id);
        child.emit('close', reply.code, reply.signal);
        return;
    }
  }

  private forget(id: number): void {
    this.children.delete(id);
    this.holdOpen();
  }

  /** The helper keeps Symphony running only while a program of it does. */
  private holdOpen(): void {
    const helper = this.helper;
    if (!helper) return;
    const busy = this.children.size > 0;
    for (const handle of [helper, helper.stdout, helper.stdin] as (ChildProcess | { ref?(): void; unref?(): void } | null)[]) {
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
