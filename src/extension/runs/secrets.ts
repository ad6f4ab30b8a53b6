// No `vscode` import: the vault takes SecretStorage and a Memento by shape, so it is
// unit-tested without VS Code.

/** The part of `vscode.SecretStorage` the vault uses. */
export interface SecretBackend {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The part of `vscode.Memento` the vault uses (for the names, which are not secret). */
export interface NameStore {
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** What `secrets.NAME` can name: the engine reads `secrets.<identifier>` from melody text. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a secret name cannot be used, or undefined when it can. */
export function secretNameProblem(name: string): string | undefined {
  if (name === '') return 'a secret needs a name';
  if (!SECRET_NAME.test(name)) return 'use letters, digits and "_", starting with a letter or "_" (melodies say secrets.NAME)';
  return undefined;
}

/** Where a vault keeps its values and its list of names. */
export interface VaultKeys {
  /** Prefix of the SecretStorage keys. */
  readonly prefix: string;
  /** The Memento key of the list of names. */
  readonly names: string;
}

/** The melodies' `secrets.NAME`. */
export const SECRET_KEYS: VaultKeys = { prefix: 'symphony.secret.', names: 'symphony.secretNames' };
/** Model providers' API keys, by the environment-variable name the CLI would read (`OPENAI_API_KEY`). */
export const API_KEY_KEYS: VaultKeys = { prefix: 'symphony.apiKey.', names: 'symphony.apiKeyNames' };

/**
 * The melodies' secrets in VS Code's SecretStorage, under `symphony.secret.<NAME>` — the
 * extension's counterpart of the CLI's environment variables. SecretStorage cannot list its
 * keys, so the names (never the values) are kept beside it for "Delete Secret". Nothing here
 * logs or returns a value except `get`, which only the engine calls.
 */
export class SecretVault {
  constructor(
    private readonly secrets: SecretBackend,
    private readonly names: NameStore,
    private readonly keys: VaultKeys = SECRET_KEYS,
  ) {}

  /** The value of a secret, for the engine (which redacts it from everything it writes). */
  async get(name: string): Promise<string | undefined> {
    if (secretNameProblem(name)) return undefined;
    return this.secrets.get(this.keys.prefix + name);
  }

  async set(name: string, value: string): Promise<void> {
    const problem = secretNameProblem(name);
    if (problem) throw new Error(`cannot store secret "${name}": ${problem}`);
    await this.secrets.store(this.keys.prefix + name, value);
    const known = this.list();
    if (!known.includes(name)) await this.names.update(this.keys.names, [...known, name].sort());
  }

  async delete(name: string): Promise<void> {
    await this.secrets.delete(this.keys.prefix + name);
    await this.names.update(
      this.keys.names,
      this.list().filter((n) => n !== name),
    );
  }

  /** The names of the secrets set through Symphony, sorted. */
  list(): string[] {
    return [...this.names.get<string[]>(this.keys.names, [])];
  }
}
