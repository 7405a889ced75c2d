/** What one request may ask for: refused with a 400 naming the field beyond these (RELIABILITY.md item 21). */
export interface RequestLimits {
  /** Largest width or height, in pixels (default 1024). */
  readonly maxSide: number;
  /** Most images per request (default: the engine's batch size). */
  readonly maxImages: number;
  /** Most steps (default 150, A1111's slider maximum). */
  readonly maxSteps: number;
  /** Longest prompt, in characters (default 32,000, gpt-image-1's limit; CLIP reads 77 tokens of it). */
  readonly maxPromptChars: number;
}

export const DEFAULT_LIMITS: RequestLimits = { maxSide: 1024, maxImages: 8, maxSteps: 150, maxPromptChars: 32_000 };
