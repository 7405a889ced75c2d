// A small teacher/student pair of tiny decoders (TAESD's shape, narrow), teacher weights drawn here.
import { TAESD_CONFIG, AutoencoderTiny, type AutoencoderTinyConfig } from '@sdxs/decoder';
import type { Tensor } from '@sdxs/tensor';
import { Generator } from '@sdxs/tensor';
import { bindRandom, decoderDistillGraph, mapStore, type DecoderDistillGraph } from '../src/index.js';

export function tinyConfig(width: number, blocks: number): AutoencoderTinyConfig {
  const ch = [width, width, width, width];
  return { ...TAESD_CONFIG, decoder_block_out_channels: ch, block_out_channels: ch, encoder_block_out_channels: ch, num_decoder_blocks: [blocks, blocks, blocks, 1], num_encoder_blocks: [1, blocks, blocks, blocks] };
}

export const TEACHER = tinyConfig(16, 1);
export const STUDENT = tinyConfig(8, 1);

/** The teacher's decoder weights, drawn from a fixed seed (ReLU gain). */
export function teacherWeights(): Map<string, Tensor> {
  const { graph } = new AutoencoderTiny(TEACHER).decoderGraph({ height: 4, width: 4 });
  bindRandom(graph, new Generator(1234), { gain: Math.SQRT2 });
  const out = new Map<string, Tensor>();
  for (const n of graph.parameterNames) {
    const d = graph.initializers.get(n)!.data;
    if (d && 'dtype' in d) out.set(n, d);
  }
  return out;
}

/** The distillation graph with the student drawn from `seed`. */
export async function distillGraph(batch: number, latentSize: number, seed: number): Promise<DecoderDistillGraph> {
  const d = await decoderDistillGraph({ teacher: TEACHER, teacherWeights: [mapStore('teacher', teacherWeights())], student: STUDENT, batch, latentSize });
  bindRandom(d.graph, new Generator(seed), { gain: Math.SQRT2 });
  return d;
}
