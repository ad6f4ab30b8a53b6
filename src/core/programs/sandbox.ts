import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { variable } from './environment';
import { resolveProgram } from './resolve';

/**
 * The OS sandbox programs of a melody run in: bubblewrap on Linux, sandbox-exec (Seatbelt)
 * on macOS, none on Windows. See docs/security-sandbox.md for what it stops and what it
 * does not.
 */

/** The sandbox this machine has, or why there is none. */
export type SandboxSupport =
  | { readonly kind: 'bwrap'; readonly path: string; readonly version: string }
  | { readonly kind: 'seatbelt'; readonly path: string }
  | { readonly kind: 'none'; readonly why: string };

/** Where bubblewrap comes from, for the message when it is missing. */
const INSTALL_BWRAP = 'install it (Debian, Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap)';
/** The sandbox-exec every macOS has. */
const SANDBOX_EXEC = '/usr/bin/sandbox-exec';

/**
 * Finds the sandbox: `bwrap` on the PATH Symphony started with, which must print its
 * version and start one trial sandbox with the namespaces Symphony asks for (so a kernel
 * without user namespaces is reported now, in words, rather than as every program failing).
 */
export async function detectSandbox(startEnv: Readonly<Record<string, string>>, platform: NodeJS.Platform): Promise<SandboxSupport> {
  if (platform === 'darwin') {
    return existsSync(SANDBOX_EXEC) ? { kind: 'seatbelt', path: SANDBOX_EXEC } : { kind: 'none', why: `programs run in a sandbox-exec sandbox on macOS and ${SANDBOX_EXEC} is missing` };
  }
  if (platform !== 'linux') return { kind: 'none', why: `${platform === 'win32' ? 'Windows' : platform} has no sandbox Symphony can use` };
  const path = await resolveProgram('bwrap', '/', { path: variable(startEnv, 'PATH', platform), platform });
  if (!path) return { kind: 'none', why: `programs run in a bubblewrap sandbox on Linux and bwrap is not installed — ${INSTALL_BWRAP}` };
  try {
    // Asked together: each is a process start, and the first node of a run waits for both.
    const [printed] = await Promise.all([output(path, ['--version']), output(path, [...NAMESPACES, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', path, '--version'])]);
    return { kind: 'bwrap', path, version: printed.trim().replace(/^bubblewrap\s*/, '') };
  } catch (e) {
    return {
      kind: 'none',
      why: `bubblewrap (${path}) cannot make a sandbox on this machine: ${(e as Error).message.trim()} — are user namespaces disabled (sysctl kernel.unprivileged_userns_clone, or an AppArmor rule)?`,
    };
  }
}

function output(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, [...args], { timeout: 10_000, env: {} }, (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolvePromise(stdout)));
  });
}

/** What one sandboxed program may see, write and reach — real absolute paths throughout. */
export interface SandboxPlan {
  /** The workspace root: readable; writable only where `writable` says. */
  readonly workspace: string;
  /** Folders and files the program may write. */
  readonly writable: readonly string[];
  /** Never-writable paths inside `writable`, made read-only again. */
  readonly readOnly: readonly string[];
  /** Folders replaced by an empty private one (the home folder). */
  readonly hidden: readonly string[];
  /** Paths inside hidden folders shown again, read-only: where the program and its kin are installed. */
  readonly shown: readonly string[];
  /**
   * The network: none; only Symphony's proxy (a Unix socket, bound into the sandbox at
   * `PROXY_SOCKET`); or the machine's whole network.
   */
  readonly network: { readonly kind: 'none' } | { readonly kind: 'proxy'; readonly socket: string } | { readonly kind: 'all' };
  readonly cwd: string;
}

/** Where the proxy's socket is inside the sandbox (its /tmp is private). */
export const PROXY_SOCKET = '/tmp/.symphony-proxy.sock';

/**
 * Namespaces every sandbox gets: its own user namespace with no capabilities (even when
 * Symphony runs as root), process ids (it can neither see nor signal nor trace a process
 * outside, and everything in it dies with the program), network, IPC and host name.
 */
const NAMESPACES = ['--unshare-user', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--cap-drop', 'ALL'];

/**
 * bubblewrap's arguments for `plan`, up to and including `--`: the machine read-only, a
 * fresh /dev and /proc, a private /tmp, /run (sockets of Docker, D-Bus, the SSH agent)
 * hidden, the home folder hidden, the workspace read-only, then the writable scopes, then
 * the never-writable paths inside them read-only again — later mounts win, so the order is
 * the policy.
 *
 * Not used: `--die-with-parent` (Symphony stops a program by signalling its process group;
 * bwrap would die of the SIGTERM and take the program down at once, with no grace period)
 * and `--new-session` (the program already runs in a session of its own, without a
 * terminal, and a new session would leave the process group Symphony signals).
 */
export function bwrapArguments(plan: SandboxPlan): string[] {
  const args = [...NAMESPACES];
  if (plan.network.kind === 'all') args.splice(args.indexOf('--unshare-net'), 1);
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run');
  // Name resolution on systemd machines goes through a socket under /run.
  if (plan.network.kind === 'all') args.push('--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve');
  for (const dir of plan.hidden) args.push('--tmpfs', dir);
  for (const p of plan.shown) args.push('--ro-bind-try', p, p);
  args.push('--ro-bind', plan.workspace, plan.workspace);
  for (const p of plan.writable) args.push('--bind', p, p);
  // -try: a lock file found a moment ago may be gone by now.
  for (const p of plan.readOnly) args.push('--ro-bind-try', p, p);
  if (plan.network.kind === 'proxy') args.push('--bind', plan.network.socket, PROXY_SOCKET);
  args.push('--chdir', plan.cwd, '--');
  return args;
}

/**
 * A Seatbelt profile for sandbox-exec with the same policy: writes only to the writable
 * scopes, the program's own temporary folder and a few devices, never to the existing
 * never-writable paths inside them; no reading the home folder except the workspace and
 * where programs are installed; network only to Symphony's proxy on loopback (and to
 * loopback itself when the melody names a loopback host — macOS has no network namespaces,
 * so a program's own local servers and the machine's are one).
 *
 * UNTESTED: written from Apple's and Chromium's profiles, never run by Symphony's tests
 * (there is no macOS machine here). Later rules win over earlier ones.
 */
export function seatbeltProfile(plan: SandboxPlan, options: { readonly tmp: string; readonly proxyPort?: number; readonly loopback: boolean }): string {
  const q = (p: string) => `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const subpaths = (ps: readonly string[]) => ps.map((p) => `(subpath ${q(p)})`).join(' ');
  const lines = [
    '(version 1)',
    '(allow default)',
    '(deny file-write*)',
    `(allow file-write* ${subpaths([...plan.writable, options.tmp])} (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty") (regex #"^/dev/fd/"))`,
  ];
  if (plan.readOnly.length) lines.push(`(deny file-write* ${subpaths(plan.readOnly)})`);
  if (plan.hidden.length) lines.push(`(deny file-read* ${subpaths(plan.hidden)})`, `(allow file-read* ${subpaths([plan.workspace, ...plan.shown, options.tmp])})`);
  if (plan.network.kind !== 'all') {
    lines.push('(deny network*)');
    if (options.loopback) lines.push('(allow network* (local ip "localhost:*") (remote ip "localhost:*"))');
    else lines.push('(allow network-bind network-inbound (local ip "localhost:*"))');
    if (options.proxyPort !== undefined) lines.push(`(allow network-outbound (remote ip "localhost:${options.proxyPort}"))`);
  }
  return lines.join('\n') + '\n';
}

/**
 * What to show again of a folder the sandbox hides: a program installed under the home
 * folder (nvm, volta, ~/.local/bin) needs its whole installation — `~/.nvm/…/bin/npm`
 * runs `../lib/node_modules/npm` — so a `bin` folder brings its parent, unless that parent
 * is the hidden folder itself.
 */
export function installationOf(dir: string, hidden: readonly string[]): string {
  const parent = dirname(dir);
  return basename(dir) === 'bin' && !hidden.includes(parent) && parent !== dir ? parent : dir;
}
