import * as vscode from 'vscode';
import { boardCatalog } from '../../core/board/catalog';
import type { WorkspaceModel } from '../../core/load/workspace';
import type { BoardCatalog, InstrumentInfo } from '../../protocol/boardModel';
import { COMMANDS, EDITORS } from '../commandIds';
import type { SymphonyContext } from '../context';
import { BoardRuns } from './runs';
import { BoardSession } from './session';

/**
 * The Harmony Board as a custom *text* editor for `*.melody.yaml`: VS Code keeps owning
 * the TextDocument (undo, redo, dirty state, save, hot exit), the board renders it and
 * edits it through `WorkspaceEdit`s. Registered with priority "option", so the text
 * editor stays the default and the board opens on request (Ctrl/Cmd+M, CodeLens, menus).
 */
export class HarmonyBoard implements vscode.CustomTextEditorProvider {
  private readonly open = new Set<BoardSession>();
  private cached: { model: WorkspaceModel | undefined; catalog: BoardCatalog } | undefined;
  private readonly opened = new vscode.EventEmitter<BoardSession>();
  /** Fires when a board opens (integration tests wait on it). */
  readonly onDidOpen = this.opened.event;
  /** The runs of the melodies on the open boards. */
  readonly runs: BoardRuns;

  constructor(private readonly ctx: SymphonyContext) {
    this.runs = new BoardRuns(ctx);
  }

  resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const session = new BoardSession(this.ctx, document, panel, () => this.catalog(), this.runs);
    this.open.add(session);
    session.onDidDispose(() => this.open.delete(session));
    this.opened.fire(session);
  }

  /** The palette and forms for the current workspace snapshot (rebuilt when it changes). */
  catalog(): BoardCatalog {
    const model = this.ctx.index.model;
    if (this.cached?.model !== model || !this.cached) {
      const instruments: InstrumentInfo[] = (model?.ensembles.ensembles ?? []).flatMap((e) =>
        e.instruments.map((i) => ({ ref: i.ref, nickname: i.nickname, kind: i.kind, role: i.role })),
      );
      const melodies = (model?.melodies ?? []).flatMap((m) => (m.name ? [m.name] : [])).sort();
      this.cached = { model, catalog: boardCatalog(instruments, melodies) };
    }
    return this.cached.catalog;
  }

  /** The open boards, most recent last. */
  get sessions(): readonly BoardSession[] {
    return [...this.open];
  }

  /** The board showing `uri`, if one is open. */
  sessionFor(uri: vscode.Uri): BoardSession | undefined {
    return this.sessions.filter((s) => s.document.uri.toString() === uri.toString()).pop();
  }

  dispose(): void {
    for (const s of this.open) s.dispose();
    this.runs.dispose();
    this.opened.dispose();
  }
}

/** "Open on Harmony Board" at the top of every melody file. */
class OpenOnBoardLens implements vscode.CodeLensProvider {
  constructor(private readonly command: string) {}

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    return [new vscode.CodeLens(top, { title: '$(type-hierarchy-sub) Open on Harmony Board', tooltip: 'Edit this melody as a graph (Ctrl/Cmd+M)', command: this.command, arguments: [document.uri] })];
  }
}

/** Registers the custom editor and its CodeLens; returns the board for the API. */
export function registerBoard(ctx: SymphonyContext): HarmonyBoard {
  const board = new HarmonyBoard(ctx);
  ctx.extension.subscriptions.push(
    board,
    vscode.window.registerCustomEditorProvider(EDITORS.harmonyBoard, board, {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    }),
    vscode.languages.registerCodeLensProvider({ pattern: '**/*.melody.yaml' }, new OpenOnBoardLens(COMMANDS.openBoard)),
  );
  return board;
}
