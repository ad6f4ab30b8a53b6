import { permanentError } from './support';
import type { NodeImplementation } from './types';
import { setOwn } from '../model/names';

/**
 * Runs a VS Code command through the host. Outside the extension host there is no VS Code
 * to ask, and the node says so. Output: the command's result, made JSON-safe, because
 * outputs are journaled, hashed and stored as artifacts.
 */
export const vscodeCommandNode: NodeImplementation<'vscode-command'> = {
  kind: 'vscode-command',
  async run(input, ctx) {
    const execute = ctx.host.executeCommand;
    if (!execute) throw permanentError('vscode-command nodes run only inside VS Code');
    const result = await execute(input.command, input.args ?? []);
    return { output: jsonSafe(result) };
  },
};

/**
 * `value` as plain JSON data: what JSON.stringify would keep (toJSON honoured, so a
 * `vscode.Uri` becomes its JSON form; functions and symbols dropped), with bigints as
 * strings, Maps as objects, Sets as arrays, and a reference back to an enclosing object
 * (a cycle) dropped instead of throwing. A value used twice without a cycle is kept twice.
 */
export function jsonSafe(value: unknown, ancestors: readonly object[] = []): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // undefined, function, symbol
  if (ancestors.includes(value)) return undefined;
  const inside = [...ancestors, value];
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    const converted: unknown = (withToJson.toJSON as () => unknown).call(value);
    if (converted !== value) return jsonSafe(converted, inside);
  }
  if (Array.isArray(value) || value instanceof Set) {
    // As in JSON, an unrepresentable array element becomes null so positions are kept.
    return [...value].map((v: unknown) => jsonSafe(v, inside) ?? null);
  }
  const entries: [unknown, unknown][] = value instanceof Map ? [...value.entries()] : Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const safe = jsonSafe(v, inside);
    if (safe !== undefined) setOwn(out, String(k), safe);
  }
  return out;
}
