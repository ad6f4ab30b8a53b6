import type { Instrument } from '../model/instrument';
import type { TokenUsage } from '../model/run';

/** A chat request to an instrument's model. */
export interface ModelRequest {
  readonly system?: string;
  readonly prompt: string;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Ask for a JSON object. */
  readonly json?: boolean;
}

export interface ModelResponse {
  readonly text: string;
  readonly tokens: TokenUsage;
  readonly costUsd: number;
  /** The model that answered (may differ from the requested id, e.g. a dated snapshot). */
  readonly model: string;
}

/**
 * The seam between instrument nodes and model providers (vscode-lm, openai-compatible,
 * anthropic). Streaming text arrives through `onText`.
 */
export interface ModelProvider {
  complete(instrument: Instrument, request: ModelRequest, signal: AbortSignal, onText?: (chunk: string) => void): Promise<ModelResponse>;
}

/** Raised when no provider can serve an instrument; never retried. */
export class ProviderUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}

/** The provider used until model providers land: every call fails with a clear message. */
export const noModelProvider: ModelProvider = {
  complete(instrument) {
    return Promise.reject(
      new ProviderUnavailableError(
        `instrument ${instrument.ref} (${instrument.nickname}) needs a model provider (${instrument.model?.provider ?? 'none'}), and model providers are not available in this version of Symphony yet`,
      ),
    );
  },
};
