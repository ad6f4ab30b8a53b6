// No `vscode` import: the guard takes what it needs as plain functions, so it is unit-tested
// without VS Code (a Restricted Mode window cannot be opened inside the integration host).

/** What the trust guard needs from VS Code. */
export interface TrustSurface {
  /** `vscode.workspace.isTrusted`. */
  readonly isTrusted: boolean;
  /** Shows a warning with buttons; resolves with the one chosen. */
  warn(message: string, ...actions: string[]): PromiseLike<string | undefined>;
  /** Opens the Workspace Trust editor (`workbench.trust.manage`). */
  manageTrust(): PromiseLike<unknown>;
}

/** The button that opens the Workspace Trust editor. */
export const MANAGE_TRUST = 'Manage Workspace Trust';

/**
 * Whether something that executes (run, resume, replay) may start. In Restricted Mode it
 * says why not and offers the Workspace Trust editor — without waiting for the answer, so
 * the command that asked ends at once.
 */
export function ensureTrusted(surface: TrustSurface, action: string): boolean {
  if (surface.isTrusted) return true;
  const message =
    `Symphony cannot ${action} in Restricted Mode: melodies run programs, git and model calls. ` +
    'Trust this workspace to run them; until then Symphony only shows ensembles, melodies, runs and problems.';
  void Promise.resolve(surface.warn(message, MANAGE_TRUST)).then((choice) => {
    if (choice === MANAGE_TRUST) return surface.manageTrust();
    return undefined;
  });
  return false;
}
