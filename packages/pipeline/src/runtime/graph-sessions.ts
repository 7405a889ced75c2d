/**
 * Graph → session, once per key: look the packed graph up in the injected cache, build and pack it on a
 * miss, fill its weight blobs from the checkpoint files — or, where the runtime reads files and the model is
 * on local disk, point the graph into those files (file-backed.ts) — and create the runtime session. Sessions are kept
 * for the pipeline's life; concurrent requests for the same key share one creation.
 */
import type { Graph } from '@sdxs/graph';
import type { Runtime, Session, Tensor } from '@sdxs/tensor';
import { addLoraNodes, LORA_SCALES_INPUT } from '../lora/nodes.js';
import type { GraphCache } from '../cache/graph-cache.js';
import { graphKey, type GraphKeyParts } from '../cache/graph-key.js';
import { canUseWeightFiles, packGraphOnFiles, sessionExternalData } from '../graphs/file-backed.js';
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
  /**
   * Sessions kept alive (default 4), least recently used released first. Each image graph holds its own copy
   * of the U-Net weights inside the runtime, so a pipeline cycling through many sizes must not keep them all.
   */
  readonly maxSessions?: number | undefined;
  /**
   * The adapters' current scales, for weights whose LoRA adapters are graph nodes (lora/nodes.ts): graphs get the
   * nodes when built, and every run of a graph that has them is fed these scales as `lora_scales`.
   */
  readonly loraScales?: (() => Tensor<'float32'>) | undefined;
}

/** Counts, for `info()` and tests. */
export interface GraphSessionStats {
  built: number;
  cacheHits: number;
  sessions: number;
  released: number;
  /** Sessions whose weights the runtime reads from the model's own files (no copy in JS memory). */
  fromFiles: number;
}

/** A session in use: it is not released (even if evicted) until `release()` is called. */
export interface SessionLease {
  readonly session: Session;
  release(): void;
}

interface Entry {
  readonly session: Promise<Session>;
  users: number;
  evicted: boolean;
}

export class GraphSessions {
  readonly stats: GraphSessionStats = { built: 0, cacheHits: 0, sessions: 0, released: 0, fromFiles: 0 };
  readonly #runtime: Runtime;
  readonly #weights: Readonly<Record<string, ComponentWeights>>;
  readonly #options: GraphSessionOptions;
  readonly #max: number;
  /** Insertion order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();

  constructor(runtime: Runtime, weights: Readonly<Record<string, ComponentWeights>>, options: GraphSessionOptions) {
    this.#runtime = runtime;
    this.#weights = weights;
    this.#options = options;
    this.#max = options.maxSessions ?? 4;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new RangeError(`maxSessions must be an integer ≥ 1, got ${options.maxSessions}`);
  }

  /**
   * The session for `request`, created on first use (its build and session events go to `onProgress`); call
   * `release()` when done with it.
   */
  async acquire(request: GraphRequest, onProgress?: ProgressCallback): Promise<SessionLease> {
    const files = canUseWeightFiles(this.#runtime, request.components, this.#weights);
    // A file-backed graph holds file offsets instead of blob offsets: a key of its own (which packing happens
    // is then fixed by the key's weight identities and dtype, so a cache entry always fits its key).
    const parts = files ? { ...request.parts, options: { ...request.parts.options, weightFiles: true } } : request.parts;
    const key = await graphKey(parts);
    let entry = this.#entries.get(key);
    if (entry) this.#entries.delete(key);
    else {
      const created: Entry = { session: this.#create(key, request, files, onProgress), users: 0, evicted: false };
      // A failed creation is not remembered: the next request tries again.
      created.session.catch(() => {
        if (this.#entries.get(key) === created) this.#entries.delete(key);
      });
      entry = created;
    }
    this.#entries.set(key, entry);
    entry.users++;
    this.#evict();
    let session: Session;
    try {
      session = await entry.session;
    } catch (e) {
      entry.users--;
      throw e;
    }
    let released = false;
    const held = entry;
    return {
      session: this.#withScales(session),
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.evicted && held.users === 0) this.#dispose(held);
      },
    };
  }

  /** Run `fn` with the session for `request` leased. */
  async use<T>(request: GraphRequest, fn: (session: Session) => Promise<T>, onProgress?: ProgressCallback): Promise<T> {
    const lease = await this.acquire(request, onProgress);
    try {
      return await fn(lease.session);
    } finally {
      lease.release();
    }
  }

  /** The session, feeding `lora_scales` to runs when its graph has adapter nodes. */
  #withScales(session: Session): Session {
    const scales = this.#options.loraScales;
    if (!scales || !session.inputs.some((i) => i.name === LORA_SCALES_INPUT)) return session;
    return {
      inputs: session.inputs,
      outputs: session.outputs,
      run: (feeds, names, options) => session.run({ ...feeds, [LORA_SCALES_INPUT]: scales() }, names, options),
      dispose: () => session.dispose(),
    };
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(key);
      entry.evicted = true;
      if (entry.users === 0) this.#dispose(entry);
    }
  }

  #dispose(entry: Entry): void {
    entry.session.then(
      (s) => {
        this.stats.released++;
        return s.dispose();
      },
      () => undefined,
    ).catch(() => undefined);
  }

  async #packed(key: string, request: GraphRequest, files: boolean, onProgress: ProgressCallback | undefined): Promise<PackedGraph> {
    const { cache } = this.#options;
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
    const built = request.build();
    const scales = this.#options.loraScales;
    if (scales) addLoraNodes(built, request.components, this.#weights, scales().size);
    const packed = (files ? packGraphOnFiles(built, request.components, this.#weights) : undefined) ?? packGraph(built, request.components);
    this.stats.built++;
    await cache?.put(key, encodePackedGraph(packed));
    onProgress?.({ stage: 'build', graph, key, cached: false, ms: performance.now() - t0 });
    return packed;
  }

  async #create(key: string, request: GraphRequest, files: boolean, onProgress: ProgressCallback | undefined): Promise<Session> {
    const packed = await this.#packed(key, request, files, onProgress);
    const graph = request.parts.kind;
    const t0 = performance.now();
    onProgress?.({ stage: 'session', graph, key });
    const externalData = await sessionExternalData(packed.manifest, this.#weights);
    const eps = this.#options.executionProviders;
    const session = await this.#runtime.createSession(packed.model, {
      label: graph,
      ...(eps ? { executionProviders: eps } : {}),
      ...(externalData.length ? { externalData } : {}),
    });
    this.stats.sessions++;
    if (packed.manifest.blobs.some((b) => b.file)) this.stats.fromFiles++;
    onProgress?.({ stage: 'session', graph, key, ms: performance.now() - t0 });
    return session;
  }

  /** Release every session (those still being created are released when they finish). */
  async dispose(): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map((e) => e.session.then((s) => s.dispose(), () => undefined)));
  }
}
