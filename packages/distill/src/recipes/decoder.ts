// Stage one of the SDXS recipe (paper §3.1): a tiny decoder trained to reproduce a frozen teacher decoder's images
// from the same latents, with L1 between 8× average-pooled images (plus, in the paper, a GAN loss for texture).
import { AutoencoderTiny, type AutoencoderTinyConfig } from '@sdxs/decoder';
import { bindCheckpoint, Graph, Params, stopGradient, type Target, type TensorStore, type Value } from '@sdxs/graph';
import { l1DownsampledLoss } from '../losses/l1.js';
import { mseLoss } from '../losses/mse.js';

/** Training graphs avoid the fused contrib kernels, which have no gradient rules. */
export const TRAINING_LOWERING = { attention: 'decomposed', groupNorm: 'instance-norm' } as const;

export type DecoderLoss = 'l1-down8' | 'mse';

export interface DecoderDistillOptions {
  teacher: AutoencoderTinyConfig;
  /** The teacher's weights (an AutoencoderTiny checkpoint; its encoder is ignored). */
  teacherWeights: readonly TensorStore[];
  student: AutoencoderTinyConfig;
  batch: number;
  /** Latent height and width (the image is 8× larger for TAESD). */
  latentSize: number;
  loss?: DecoderLoss;
  target?: Target;
}

export interface DecoderDistillGraph {
  graph: Graph;
  /** Input `latents` [batch, latent_channels, size, size]. */
  latents: Value;
  /** The student's image; its parameters are `decoder.*` (diffusers names), unbound. */
  student: Value;
  /** The frozen teacher's image; its parameters are `teacher.decoder.*`, bound. */
  teacher: Value;
  loss: Value;
}

/**
 * One graph holding the frozen teacher decoder (`teacher.decoder.*`, initializers) and the student
 * (`decoder.*`, left unbound: bind a checkpoint or `bindRandom`, then `makeTrainable(graph, /^decoder\./)`), with the
 * loss between their images: 'l1-down8' (default, the paper's) or 'mse'.
 *
 * @example
 * const d = await decoderDistillGraph({ teacher: TAESD_CONFIG, teacherWeights: [file], student, batch: 4, latentSize: 16 });
 * bindRandom(d.graph, new Generator(0));
 * const trainer = await Trainer.create({ runtime, graph: d.graph, loss: d.loss, trainable: makeTrainable(d.graph, /^decoder\./), optimizer: adamw({ lr: 1e-3 }) });
 */
export async function decoderDistillGraph(o: DecoderDistillOptions): Promise<DecoderDistillGraph> {
  const graph = new Graph({ name: 'decoder_distill', target: o.target ?? 'cpu', lowering: TRAINING_LOWERING });
  const latents = graph.input('latents', 'float32', [o.batch, o.teacher.latent_channels, o.latentSize, o.latentSize]);
  const teacher = new AutoencoderTiny(o.teacher).decode(new Params(graph, 'teacher'), latents);
  // Bind the teacher before the student exists: bindCheckpoint binds every unbound parameter.
  await bindCheckpoint(graph, o.teacherWeights, { fileKeyToModelKey: (k) => `teacher.${k}`, ignore: [/^teacher\.encoder\./] });
  const student = new AutoencoderTiny(o.student).decode(new Params(graph), latents);
  const target = stopGradient(teacher);
  const loss = (o.loss ?? 'l1-down8') === 'mse' ? mseLoss(student, target) : l1DownsampledLoss(student, target, 8);
  return { graph, latents, student, teacher, loss };
}
