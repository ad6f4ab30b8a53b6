/**
 * `npm start`: opens a fresh copy of examples/demo in a real VS Code (code-server) with
 * Symphony loaded, so you can play with it in your browser. Runs until Ctrl+C.
 *
 * The copy is a new git repository under the OS temp folder, made anew on every start (as
 * the tests' workspaces are): using the demo never changes the checkout, and nothing run
 * in it — a template's `npm test`, git — finds this repository around it. It is kept when
 * the demo stops (its path is printed), so what you did there is not lost.
 *
 * The extension is loaded by symlinking this repository into the extensions folder as
 * symphony-dev.symphony-<version>: a plain URL then shows Symphony (no payload needed),
 * and after `npm run watch` rebuilds, "Developer: Reload Window" picks up the new code.
 *
 * Environment:
 *   PORT   port to listen on (default 8080; a free one when that is taken)
 *   HOST   address to bind (default 127.0.0.1; 0.0.0.0 exposes it to your network,
 *          without a password)
 *
 *   tsx test/harness/demo.ts --check   start, confirm the Symphony view container shows
 *                                      in headless Chromium, stop.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchChromium } from './browser';
import { ensureCodeServer, isPortFree, freePort, startCodeServer } from './codeServer';
import { repoRoot } from './paths';
import { openSymphonyContainer } from './workbench';
import { copyDemo, tempRoot } from './workspace';

const EXTENSION_ID = 'symphony-dev.symphony';

/** State for the demo survives restarts (your layout and settings); extensions do not. */
const demoStateDir = path.join(repoRoot, '.vscode-test', 'demo');

async function linkExtension(extensionsDir: string): Promise<void> {
  const { version } = JSON.parse(await fsp.readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  // Recreated each start: a stale extensions.json or an older version's link must not win.
  await fsp.rm(extensionsDir, { recursive: true, force: true });
  await fsp.mkdir(extensionsDir, { recursive: true });
  await fsp.symlink(repoRoot, path.join(extensionsDir, `${EXTENSION_ID}-${version}`), 'dir');
}

async function choosePort(host: string): Promise<number> {
  const wanted = Number(process.env.PORT ?? 8080);
  if (Number.isInteger(wanted) && wanted > 0 && (await isPortFree(wanted, host))) return wanted;
  const port = await freePort(host);
  console.log(`Port ${wanted} is taken; using ${port} instead.`);
  return port;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  await ensureCodeServer();
  const host = process.env.HOST ?? '127.0.0.1';
  // --check must not disturb a demo that is running: it gets state of its own.
  const stateDir = check ? await fsp.mkdtemp(path.join(os.tmpdir(), 'symphony-demo-check-')) : demoStateDir;
  const extensionsDir = path.join(stateDir, 'extensions');
  await linkExtension(extensionsDir);
  // --check's copy goes with its state; the demo's stays for you after it stops.
  const workspace = await copyDemo(check ? stateDir : await tempRoot('symphony-demo'));
  const server = await startCodeServer({
    workspace,
    userDataDir: path.join(stateDir, 'user-data'),
    extensionsDir,
    disableWorkspaceTrust: true,
    host,
    port: check ? undefined : await choosePort(host),
    logFile: path.join(stateDir, 'code-server.log'),
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (!check) console.log('Stopping code-server…');
    await server.stop();
    if (check) await fsp.rm(stateDir, { recursive: true, force: true });
    else console.log(`Your copy of the demo stays at ${workspace} (delete it when you are done).`);
    process.exit(code);
  };

  if (check) {
    const browser = await launchChromium({ headless: true });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await openSymphonyContainer(page);
      console.log(`OK: ${server.url} shows the Symphony view container on ${workspace}.`);
    } catch (error) {
      console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}\nLast lines of ${server.logFile}:\n${server.logTail(20)}`);
      await browser.close();
      return stop(1);
    }
    await browser.close();
    return stop(0);
  }

  const bar = '─'.repeat(64);
  console.log(`\n${bar}\n  Symphony demo is running:\n\n      ${server.url}\n`);
  console.log(`  Workspace: ${workspace}`);
  console.log('             a fresh git copy of examples/demo — the checkout is never changed');
  if (host !== '127.0.0.1' && host !== 'localhost') console.log(`  Listening on ${host}:${server.port} (no password!)`);
  console.log(`  Server log: ${path.relative(process.cwd(), server.logFile)}`);
  console.log(`  Rebuild with \`npm run watch\`, then run "Developer: Reload Window".`);
  console.log(`  Press Ctrl+C to stop.\n${bar}\n`);

  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGHUP', () => void stop(0));
  // The server keeps this process alive until a signal arrives; report if it dies on its own.
  void server.exited.then((how) => {
    if (stopping) return;
    console.error(`code-server stopped unexpectedly (${how}). Last lines of ${server.logFile}:\n${server.logTail(20)}`);
    void stop(1);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
