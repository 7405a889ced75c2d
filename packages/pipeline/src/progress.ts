/**
 * What a pipeline reports while it works, for progress bars and logs. Events with `ms` mark the end of a
 * phase; the same event without it marks the start.
 */
export type ProgressEvent =
  /** Reading a component's config, tokenizer or weight headers. */
  | { readonly stage: 'load'; readonly component: string; readonly ms?: number }
  /** Building and serializing a graph (`cached`: taken from the GraphCache instead). */
  | { readonly stage: 'build'; readonly graph: string; readonly key: string; readonly cached: boolean; readonly ms?: number }
  /** Filling weights and creating the runtime session of a graph. */
  | { readonly stage: 'session'; readonly graph: string; readonly key: string; readonly ms?: number }
  /** Running the text encoder for prompts not in the embedding cache. */
  | { readonly stage: 'encode'; readonly prompts: number; readonly cached: number; readonly ms?: number }
  /** One denoising step done (1-based `step`); `fused`: the one-step graph, which decodes too. */
  | { readonly stage: 'step'; readonly step: number; readonly steps: number; readonly timestep: number; readonly ms: number; readonly fused?: boolean }
  /** Decoding the final latents (multi-step sampling; one-step decodes inside its single graph). */
  | { readonly stage: 'decode'; readonly ms: number };

export type ProgressCallback = (event: ProgressEvent) => void;
