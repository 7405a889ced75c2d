/**
 * The three networks of an SDXS step as stand-alone graphs with their inputs: CLIP text encoder, U-Net, tiny
 * decoder. Either the full-size SDXS-512 architecture with deterministic synthetic weights (`bindSynthetic`), or
 * the networks of a diffusers folder with its own weights. Graph construction and weight binding are timed apart:
 * the first is what sdxs adds over loading a pre-exported ONNX file, the second is I/O (or, for synthetic
 * weights, random numbers — not comparable with a checkpoint read, and labelled so).
 */
import { clipBindOptions, clipTextModel, parseCLIPTextConfig, type CLIPTextConfig } from '@sdxs/clip';
import { AutoencoderTiny } from '@sdxs/decoder';
import { bindCheckpoint, bindSynthetic, Graph, openWeightFiles, type BindOptions, type Target } from '@sdxs/graph';
import { Generator, Tensor, type ModelSource } from '@sdxs/tensor';
import { buildUNetGraph, parseUNetConfig, type UNet2DConditionConfig } from '@sdxs/unet';
import { CLIP_VIT_L14_TEXT, EXPECTED_PARAMETERS, SDXS512_UNET, SDXS_TINY_VAE } from './full-size-configs.js';

export type StageName = 'text_encoder' | 'unet' | 'decoder';
export const STAGES: readonly StageName[] = ['text_encoder', 'unet', 'decoder'];

/** CLIP's context length: Stable Diffusion always pads prompts to it. */
const TOKENS = 77;
/** One-step SDXS evaluates the U-Net once, at the last training timestep. */
const TIMESTEP = 999;

export interface StageSpec {
  batch: number;
  /** Image size in pixels. */
  width: number;
  height: number;
  target: Target;
  /** Seed of the synthetic weights and of the random inputs. */
  seed: number;
}

/** Where the networks come from: the built-in full-size configs, or a diffusers folder. */
export type Networks =
  | { kind: 'synthetic'; clip: CLIPTextConfig; unet: UNet2DConditionConfig; vae: AutoencoderTiny }
  | { kind: 'checkpoint'; source: ModelSource; clip: CLIPTextConfig; unet: UNet2DConditionConfig; vae: AutoencoderTiny };

export interface BuiltStage {
  name: StageName;
  graph: Graph;
  feeds: Record<string, Tensor>;
  /** Graph construction, ms. */
  buildMs: number;
  /** Binding the weights (synthetic generation or checkpoint read), ms. */
  bindMs: number;
}

/** The full-size SDXS-512 networks with synthetic weights. */
export function syntheticNetworks(): Networks {
  return { kind: 'synthetic', clip: CLIP_VIT_L14_TEXT, unet: SDXS512_UNET, vae: new AutoencoderTiny(SDXS_TINY_VAE) };
}

async function readJson(source: ModelSource, path: string): Promise<unknown> {
  try {
    return JSON.parse(await source.readText(path));
  } catch (e) {
    throw new Error(`${source.id}/${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The networks of a diffusers folder (text_encoder/, unet/, vae/ holding an AutoencoderTiny, as SDXS ships). */
export async function folderNetworks(source: ModelSource): Promise<Networks> {
  const vaeJson = await readJson(source, 'vae/config.json');
  const vaeClass = typeof vaeJson === 'object' && vaeJson !== null && '_class_name' in vaeJson ? vaeJson._class_name : undefined;
  if (vaeClass !== undefined && vaeClass !== 'AutoencoderTiny') {
    throw new Error(`${source.id}/vae/config.json: is ${String(vaeClass)}; the benchmark measures the tiny decoder (AutoencoderTiny) SDXS ships in vae/`);
  }
  return {
    kind: 'checkpoint',
    source,
    clip: parseCLIPTextConfig(await readJson(source, 'text_encoder/config.json'), `${source.id}/text_encoder/config.json`),
    unet: parseUNetConfig(await readJson(source, 'unet/config.json'), `${source.id}/unet/config.json`),
    vae: AutoencoderTiny.fromConfig(vaeJson, `${source.id}/vae/config.json`),
  };
}

function crossAttentionDim(c: UNet2DConditionConfig): number {
  return typeof c.cross_attention_dim === 'number' ? c.cross_attention_dim : c.cross_attention_dim[0]!;
}

/** Latent height and width for an image of `spec`'s size. */
export function latentSize(net: Networks, spec: { width: number; height: number }): { h: number; w: number } {
  const f = net.vae.spatialFactor;
  if (spec.width % f || spec.height % f) throw new Error(`image size ${spec.width}×${spec.height} is not a multiple of the decoder's ${f}`);
  return { h: spec.height / f, w: spec.width / f };
}

/** Token ids of a short prompt padded to 77: start, a few words, end, end… (CLIP's vocabularies end with those two). */
function tokenIds(batch: number, vocab: number): Tensor {
  const ids = new BigInt64Array(batch * TOKENS).fill(BigInt(vocab - 1));
  for (let b = 0; b < batch; b++) {
    [vocab - 2, 320, 1125, 539, 320, 2368].forEach((t, i) => (ids[b * TOKENS + i] = BigInt(t % vocab)));
  }
  return new Tensor('int64', [batch, TOKENS], ids);
}

async function bindFromFolder(graph: Graph, source: ModelSource, dir: string, options: (keys: string[]) => BindOptions): Promise<void> {
  const files = await openWeightFiles(source, dir);
  try {
    await bindCheckpoint(graph, files, options(files.flatMap((f) => f.names())));
  } finally {
    await Promise.all(files.map((f) => f.close()));
  }
}

function checkCount(net: Networks, stage: 'text_encoder' | 'unet', graph: Graph): void {
  if (net.kind !== 'synthetic') return;
  const n = graph.parameterCount();
  const want = EXPECTED_PARAMETERS[stage];
  if (n !== want) throw new Error(`${stage}: the full-size graph has ${n} parameters, SDXS-512's has ${want}`);
}

/**
 * Build one stage's graph for `spec`, bind its weights and make its inputs.
 *
 * @example
 * const { graph, feeds } = await buildStage(syntheticNetworks(), 'unet', { batch: 1, width: 512, height: 512, target: 'cpu', seed: 0 });
 */
export async function buildStage(net: Networks, name: StageName, spec: StageSpec): Promise<BuiltStage> {
  const rng = new Generator(spec.seed);
  const { h, w } = latentSize(net, spec);
  const t0 = performance.now();
  let graph: Graph;
  let feeds: Record<string, Tensor>;
  let dir: string;
  let bindOptions: (keys: string[]) => BindOptions = () => ({});
  switch (name) {
    case 'text_encoder': {
      graph = new Graph({ name: 'text_encoder', target: spec.target });
      const ids = graph.input('input_ids', 'int64', [spec.batch, TOKENS]);
      // Stable Diffusion conditions on the last hidden state; the pooled output is left unused.
      graph.output(clipTextModel(graph, ids, net.clip).lastHiddenState, 'last_hidden_state');
      checkCount(net, name, graph);
      feeds = { input_ids: tokenIds(spec.batch, net.clip.vocab_size) };
      dir = 'text_encoder';
      bindOptions = clipBindOptions;
      break;
    }
    case 'unet': {
      ({ graph } = buildUNetGraph(net.unet, { target: spec.target, batch: spec.batch, height: h, width: w, timestep: 'scalar' }));
      checkCount(net, name, graph);
      feeds = {
        sample: rng.randn([spec.batch, net.unet.in_channels, h, w]),
        timestep: new Tensor('float32', [], new Float32Array([TIMESTEP])),
        encoder_hidden_states: rng.randn([spec.batch, TOKENS, crossAttentionDim(net.unet)]),
      };
      dir = 'unet';
      break;
    }
    case 'decoder': {
      const built = net.vae.decoderGraph({ target: spec.target, batch: spec.batch, height: h, width: w });
      graph = built.graph;
      feeds = { latents: rng.randn([spec.batch, net.vae.config.latent_channels, h, w]) };
      dir = 'vae';
      bindOptions = () => ({ ignore: built.ignore });
      break;
    }
  }
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  if (net.kind === 'synthetic') bindSynthetic(graph, spec.seed);
  else await bindFromFolder(graph, net.source, dir, bindOptions);
  return { name, graph, feeds, buildMs, bindMs: performance.now() - t1 };
}
