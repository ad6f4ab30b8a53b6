import picomatch from 'picomatch';
import type { Chamber } from '../model/chamber';

/** Folders whose children are usually modules: `src/auth/…` is module `auth`. */
const CONTAINERS = new Set(['src', 'lib', 'app', 'packages', 'modules', 'services']);

/**
 * A first guess at the module a file belongs to, to prefill a record made from a marker:
 * the module of the chamber whose scope holds the file, else the folder under `src/`
 * (or `lib/`, `packages/`…), else its top folder. Undefined for a file at the root.
 */
export function guessModule(file: string, chambers: readonly Chamber[] = []): string | undefined {
  for (const c of chambers) {
    if (picomatch([c.scope].flat(), { dot: true })(file)) return c.module;
  }
  const parts = file.split('/');
  if (parts.length < 2) return undefined;
  if (CONTAINERS.has(parts[0]!) && parts.length > 2) return parts[1];
  return parts[0];
}
