import * as vscode from 'vscode';
import { randomFillSync } from 'node:crypto';
import { basename } from 'node:path';
import { paletteNode } from '../../core/board/catalog';
import { boardDocument } from '../../core/board/model';
import {
  addNode,
  connect,
  deleteNodes,
  disconnect,
  moveNodes,
  renameNode,
  replaceNodeSource,
  setField,
  setFieldYaml,
  type EditResult,
} from '../../core/board/operations';
import { DeskRefusal, type DeskChange } from '../../core/board/runDesk';
import type { TextEdit } from '../../core/board/textEdit';
import { RunRequestError } from '../../core/engine/engine';
import type { RunEvent } from '../../core/model/run';
import { parseBoardMessage, type BoardIntent, type BoardView, type HostMessage } from '../../protocol/board';
import { needsLayout, type BoardCatalog, type BoardDocument } from '../../protocol/boardModel';
import type { SymphonyContext } from '../context';
import { Coalescer } from '../runs/coalescer';
import { BoardChannel } from './channel';
import { boardHtml, makeNonce, preloadedChunks } from './html';
import type { BoardRuns, MelodyRuns } from './runs';
import { exportMelodyFile, importMelodyFile } from './transfer';

/** What an intent came to: sent back to the board as its `result`. */
export interface IntentOutcome {
  readonly ok: boolean;
  readonly message: string;
  readonly select?: readonly string[];
}

/** How long to wait after a keystroke in the text editor before redrawing the board. */
const TYPING_DELAY_MS = 60;
/** How long a run's events are gathered before they go to the board in one message. */
const RUN_EVENTS_MS = 50;
/** Where the workspace remembers how its boards look. */
const VIEW_KEY = 'symphony.board.view';
const DEFAULT_VIEW: BoardView = { minimap: true };

/**
 * One open Harmony Board: a webview panel showing one melody document. The document is
 * the model — the board sends intents, the session turns each into a `WorkspaceEdit` on
 * the TextDocument, and every change of the document, wherever it came from, is sent back
 * as a new `document` message.
 */
export class BoardSession implements vscode.Disposable {
  readonly channel: BoardChannel;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sentVersion = -1;
  /** Intents run one at a time, each against the text the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();
  private last: BoardDocument | undefined;
  /** What `last` was built from: the text's version and the workspace context it was checked in. */
  private builtFrom: { readonly version: number; readonly context: unknown } | undefined;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;
  /** The runs of this melody: the overlay, pins, breakpoints and debugger, shared by its boards. */
  readonly runs: MelodyRuns;
  private pendingEvents: RunEvent[] = [];
  private readonly eventFlush = new Coalescer(RUN_EVENTS_MS, () => this.flushEvents());

  constructor(
    private readonly ctx: SymphonyContext,
    readonly document: vscode.TextDocument,
    readonly panel: vscode.WebviewPanel,
    private readonly catalog: () => BoardCatalog,
    boardRuns: BoardRuns,
  ) {
    const webview = panel.webview;
    const bundle = vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview');
    webview.options = { enableScripts: true, localResourceRoots: [bundle] };
    this.channel = new BoardChannel((m) => webview.postMessage(m));
    webview.onDidReceiveMessage((raw: unknown) => this.receive(raw), undefined, this.disposables);
    vscode.workspace.onDidChangeTextDocument(
      (e) => {
        if (e.document === document && e.contentChanges.length > 0) this.scheduleDocument();
      },
      undefined,
      this.disposables,
    );
    // New instruments or melodies change the palette and what counts as a known reference.
    ctx.index.onDidChange(
      () => {
        if (!panel.visible) return;
        this.sendInit();
        this.sendDocument(true);
      },
      undefined,
      this.disposables,
    );
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    const held = boardRuns.acquire(document.uri.fsPath);
    this.runs = held.runs;
    this.disposables.push(held, this.runs.onDidChange((change) => this.runChanged(change)));
    // The page is made from the document as it is: a melody without positions has it fetch
    // ELK at once. The board gets the document, and the rest of its state, when it says ready.
    const opened = this.build();
    const uri = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(bundle, file)).toString();
    webview.html = boardHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce((b) => randomFillSync(b)),
      scriptUri: uri('board.js'),
      preloadUris: preloadedChunks(bundle.fsPath).map(uri),
      styleUri: uri('board.css'),
      ...(needsLayout(opened.melody?.nodes ?? []) ? { layoutUri: uri('elk.js'), layoutGraph: opened.melody?.nodes } : {}),
      title: `Harmony Board — ${basename(document.uri.fsPath)}`,
    });
  }

  private send(message: HostMessage): void {
    this.channel.send(message);
  }

  private sendInit(): void {
    const view = { ...DEFAULT_VIEW, ...this.ctx.extension.workspaceState.get<Partial<BoardView>>(VIEW_KEY) };
    this.send({ type: 'init', catalog: this.catalog(), view });
  }

  /** Everything about runs, for a board that starts (or starts over). */
  private sendRuns(): void {
    this.sendRunState();
    this.send({ type: 'pins', pins: this.runs.desk.saved.pins });
    this.send({ type: 'run-controls', controls: this.runs.controls() });
  }

  /** The run shown, whole: it holds the events still waiting to be sent, so they go. */
  private sendRunState(): void {
    this.pendingEvents = [];
    const view = this.runs.desk.view;
    this.send({ type: 'run-state', run: view.run ?? null, events: view.events, dropped: view.dropped });
  }

  private runChanged(change: DeskChange): void {
    switch (change.kind) {
      case 'events':
        this.pendingEvents.push(...change.events);
        this.eventFlush.schedule();
        return;
      case 'view':
        this.sendRunState();
        return;
      case 'settings':
        this.send({ type: 'pins', pins: this.runs.desk.saved.pins });
        return;
      case 'controls':
        // After the events that led to it: a pause is shown with the run as it stands.
        this.flushEvents();
        this.send({ type: 'run-controls', controls: this.runs.controls() });
        return;
      default: {
        const never: never = change;
        return never;
      }
    }
  }

  private flushEvents(): void {
    this.eventFlush.dispose();
    if (!this.pendingEvents.length) return;
    const events = this.pendingEvents;
    this.pendingEvents = [];
    this.send({ type: 'run-events', events });
  }

  /** The latest document sent to the board. */
  get current(): BoardDocument | undefined {
    return this.last;
  }

  private scheduleDocument(): void {
    clearTimeout(this.timer);
    // A hidden board is rebuilt when it is shown again (its webview reloads and says ready).
    if (!this.panel.visible) return;
    this.timer = setTimeout(() => this.sendDocument(), TYPING_DELAY_MS);
  }

  /** Sends the board's view of the document (unless this version was sent already and not `force`). */
  sendDocument(force = false): void {
    clearTimeout(this.timer);
    if (!force && this.document.version === this.sentVersion) return;
    this.sentVersion = this.document.version;
    this.send({ type: 'document', document: this.build() });
  }

  /**
   * The board's view of the document as it now is. It is built again only when the text or
   * the workspace it is checked against changed since: a board that opens or reloads gets
   * the one already built (the page itself was made from it) — on a 500-node melody that
   * build is about 200 ms of the extension host.
   */
  private build(): BoardDocument {
    const version = this.document.version;
    // A new snapshot of the workspace comes with a new context (workspaceIndex.ts).
    const context = this.ctx.index.model?.context;
    if (this.last && this.builtFrom?.version === version && this.builtFrom.context === context) return this.last;
    this.builtFrom = { version, context };
    this.last = boardDocument(this.document.getText(), this.document.uri.fsPath, { fileName: basename(this.document.uri.fsPath), version, context });
    return this.last;
  }

  /** Handles a raw message from the webview (public so integration tests can play the board). */
  receive(raw: unknown): Promise<void> {
    const parsed = parseBoardMessage(raw);
    if (!parsed.ok) {
      this.ctx.log.warn(`Harmony Board: ignored a malformed message (${parsed.error})`);
      return Promise.resolve();
    }
    const message = parsed.message;
    switch (message.type) {
      case 'ready':
        this.channel.ready();
        // The board's whole state, once: the page has just loaded, or reloaded (hidden, then
        // shown) and starts empty. The channel kept none of it waiting (channel.ts).
        this.sendInit();
        this.sendDocument(true);
        this.sendRuns();
        return Promise.resolve();
      case 'log':
        this.ctx.log[message.level](`Harmony Board: ${message.message}`);
        return Promise.resolve();
      case 'view':
        // Remembered for the boards this workspace opens next; the board that sent it keeps its own.
        return Promise.resolve(this.ctx.extension.workspaceState.update(VIEW_KEY, message.view));
      case 'intent': {
        const run = this.queue.then(() => this.perform(message.intent));
        this.queue = run.catch(() => undefined);
        return run.then((outcome) => {
          this.sendDocument();
          this.send({ type: 'result', id: message.id, ...outcome });
        });
      }
      default: {
        const never: never = message;
        return never;
      }
    }
  }

  /** Carries out one intent; expected failures come back as `ok: false` with the reason. */
  async perform(intent: BoardIntent): Promise<IntentOutcome> {
    try {
      return await this.dispatch(intent);
    } catch (e) {
      // Expected refusals (a run already going, a melody the engine cannot run) are answers, not bugs.
      if (e instanceof DeskRefusal || e instanceof RunRequestError) return { ok: false, message: e.message };
      this.ctx.log.error(`Harmony Board: ${intent.kind} failed`, e);
      return { ok: false, message: `${intent.kind} failed: ${(e as Error).message}` };
    }
  }

  private dispatch(intent: BoardIntent): Promise<IntentOutcome> {
    const text = this.document.getText();
    switch (intent.kind) {
      case 'add-node': {
        const node = paletteNode(intent.paletteKey, this.catalog().instruments);
        if (!node) return done(false, `the palette has no entry ${intent.paletteKey} any more`);
        return this.apply(addNode(text, { ...node, position: intent.position, needs: intent.after ? [intent.after] : undefined }));
      }
      case 'connect':
        return this.apply(connect(text, intent.from, intent.to));
      case 'disconnect':
        return this.apply(disconnect(text, intent.from, intent.to));
      case 'delete':
        return this.apply(deleteNodes(text, intent.nodes, intent.edges)).then((outcome) => {
          if (outcome.ok) this.runs.desk.forget(intent.nodes);
          return outcome;
        });
      case 'rename':
        return this.apply(renameNode(text, intent.from, intent.to)).then((outcome) => {
          if (outcome.ok) this.runs.desk.rename(intent.from, intent.to);
          return outcome;
        });
      case 'move':
        return this.apply(moveNodes(text, intent.positions));
      case 'set-field':
        return this.apply(setField(text, intent.path, intent.value));
      case 'set-field-yaml':
        return this.apply(setFieldYaml(text, intent.path, intent.yaml));
      case 'replace-node-source':
        return this.apply(replaceNodeSource(text, intent.node, intent.source));
      case 'reveal':
        return this.reveal(intent.line, intent.column, intent.node);
      case 'history':
        return this.history(intent.action);
      case 'import':
        return importMelodyFile(this.document);
      case 'export':
        return exportMelodyFile(this.document, intent.format);
      case 'run':
        return this.runs.run(this.document, intent.inputs ?? {}, intent.preview ?? false);
      case 'cancel-run':
        return Promise.resolve(this.runs.cancel());
      case 'set-breakpoints':
        this.runs.desk.setBreakpoints(intent.nodes);
        return done(true, intent.nodes.length ? `Breakpoints: ${intent.nodes.join(', ')}` : 'No breakpoints');
      case 'debug':
        return done(true, this.runs.desk.debug(intent.action));
      case 'pin-output':
        return this.runs.pin(intent.node, intent.pin);
      case 'open-run-document':
        return this.runs.openDocument(intent.runId, intent.node, intent.document);
      default: {
        const never: never = intent;
        return never;
      }
    }
  }

  private async apply(result: EditResult): Promise<IntentOutcome> {
    if (!result.ok) return { ok: false, message: result.error };
    return this.applyEdits(result.value.edits, result.value.message, result.value.select);
  }

  /** Applies text edits to the document as one WorkspaceEdit (one undo step). */
  async applyEdits(edits: readonly TextEdit[], message: string, select?: readonly string[]): Promise<IntentOutcome> {
    if (edits.length === 0) return { ok: true, message, select };
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) {
      edit.replace(this.document.uri, new vscode.Range(this.document.positionAt(e.start), this.document.positionAt(e.end)), e.text);
    }
    const applied = await vscode.workspace.applyEdit(edit);
    if (!applied) return { ok: false, message: 'VS Code did not apply the edit (is the file read-only?)' };
    return { ok: true, message, select };
  }

  private async reveal(line: number | undefined, column: number | undefined, node: string | undefined): Promise<IntentOutcome> {
    const at = node ? this.last?.melody?.nodes.find((n) => n.id === node)?.line : line;
    const position = new vscode.Position(Math.max(0, (at ?? 1) - 1), Math.max(0, (column ?? 1) - 1));
    await vscode.window.showTextDocument(this.document, {
      viewColumn: vscode.ViewColumn.Beside,
      selection: new vscode.Range(position, position),
      preserveFocus: false,
    });
    return { ok: true, message: node ? `Showing ${node} in the text editor` : `Showing line ${position.line + 1}` };
  }

  private async history(action: 'undo' | 'redo'): Promise<IntentOutcome> {
    const before = this.document.version;
    // The board's panel is the active editor while its toolbar is used: the workbench's
    // undo then acts on this document's stack — the same one the text editor uses.
    if (!this.panel.active) this.panel.reveal(undefined, false);
    await vscode.commands.executeCommand(action);
    return { ok: true, message: this.document.version === before ? `Nothing to ${action}` : action === 'undo' ? 'Undone' : 'Redone' };
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.eventFlush.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}

function done(ok: boolean, message: string): Promise<IntentOutcome> {
  return Promise.resolve({ ok, message });
}
