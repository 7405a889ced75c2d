/**
 * Graph → session, once per key: look the packed graph up in the injected cache, build and pack it on a
 * miss, fill its weight blobs from the checkpoint files, and create the runtime session. Sessions are kept
 * for the pipeline's life; concurrent requests for the same key share one creation.
 */
import type { Graph } from '@sdxs/graph';
import type { Runtime, Session } from '@sdxs/tensor';
import type { GraphCache } from '../cache/graph-cache.js';
import { graphKey, type GraphKeyParts } from '../cache/graph-key.js';
import { assembleWeights } from '../graphs/assemble-weights.js';
import { decodePackedGraph, encodePackedGraph, packGraph, type ComponentPrefix, type PackedGraph } from '../graphs/packed-graph.js';
import type { ComponentWeights } from '../model/weights.js';
import type { ProgressCallback } from '../progress.js';

export interface GraphRequest {
  readonly parts: GraphKeyParts;
  readonly components: readonly ComponentPrefix[];
  readonly build: () => Graph;
}

export interface GraphSessionOptions {
  readonly cache?: GraphCache | undefined;
  readonly executionProviders?: readonly string[] | undefined;
  readonly onProgress?: ProgressCallback | undefined;
}

/** Counts, for `info()` and tests. */
export interface GraphSessionStats {
  built: number;
  cacheHits: number;
  sessions: number;
}

export class GraphSessions {
  readonly stats: GraphSessionStats = { built: 0, cacheHits: 0, sessions: 0 };
  readonly #runtime: Runtime;
  readonly #weights: Readonly<Record<string, ComponentWeights>>;
  readonly #options: GraphSessionOptions;
  readonly #sessions = new Map<string, Promise<Session>>();

  constructor(runtime: Runtime, weights: Readonly<Record<string, ComponentWeights>>, options: GraphSessionOptions) {
    this.#runtime = runtime;
    this.#weights = weights;
    this.#options = options;
  }

  /** The session for `request`, created on first use. */
  async session(request: GraphRequest): Promise<Session> {
    const key = await graphKey(request.parts);
    let pending = this.#sessions.get(key);
    if (!pending) {
      pending = this.#create(key, request);
      this.#sessions.set(key, pending);
      // A failed creation is not remembered: the next request tries again.
      pending.catch(() => this.#sessions.delete(key));
    }
    return pending;
  }

  async #packed(key: string, request: GraphRequest): Promise<PackedGraph> {
    const { cache, onProgress } = this.#options;
    const graph = request.parts.kind;
    const t0 = performance.now();
    const hit = await cache?.get(key);
    if (hit) {
      try {
        const packed = decodePackedGraph(hit);
        this.stats.cacheHits++;
        onProgress?.({ stage: 'build', graph, key, cached: true, ms: performance.now() - t0 });
        return packed;
      } catch {
        // A damaged or foreign entry: rebuild and overwrite it.
      }
    }
    onProgress?.({ stage: 'build', graph, key, cached: false });
    const packed = packGraph(request.build(), request.components);
    this.stats.built++;
    await cache?.put(key, encodePackedGraph(packed));
    onProgress?.({ stage: 'build', graph, key, cached: false, ms: performance.now() - t0 });
    return packed;
  }

  async #create(key: string, request: GraphRequest): Promise<Session> {
    const packed = await this.#packed(key, request);
    const graph = request.parts.kind;
    const t0 = performance.now();
    this.#options.onProgress?.({ stage: 'session', graph, key });
    const externalData = await assembleWeights(packed.manifest, this.#weights);
    const eps = this.#options.executionProviders;
    const session = await this.#runtime.createSession(packed.model, {
      label: graph,
      ...(eps ? { executionProviders: eps } : {}),
      ...(externalData.length ? { externalData } : {}),
    });
    this.stats.sessions++;
    this.#options.onProgress?.({ stage: 'session', graph, key, ms: performance.now() - t0 });
    return session;
  }

  /** Release every session (those still being created are released when they finish). */
  async dispose(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.dispose(), () => undefined)));
  }
}
