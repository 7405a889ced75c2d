// After the VAE stage: the latents' scale (SD's scaling_factor = 1/std), held-out PSNR, and the diffusers `vae/` folder.
import { AutoencoderKL, type AutoencoderKLConfig } from '@sdxs/decoder';
import { bindCheckpoint, toOnnx } from '@sdxs/graph';
import { imagesToTensor, shapeSample, SPLIT_SEEDS } from '@sdxs/shapes';
import { Tensor, type Runtime, type Session } from '@sdxs/tensor';
import { mapStore } from '../params/store.js';
import { writeComponentFolder } from './folders.js';

/** Open encoder (image → mean, logvar) and decoder (latents → sample) sessions of a trained VAE. */
export async function vaeSessions(runtime: Runtime, config: AutoencoderKLConfig, weights: ReadonlyMap<string, Tensor>, batch: number): Promise<{ encoder: Session; decoder: Session; latentSize: number }> {
  const vae = new AutoencoderKL(config);
  const size = Number(config.sample_size);
  const latentSize = size / vae.spatialFactor;
  const enc = vae.encoderGraph({ batch, height: size, width: size });
  await bindCheckpoint(enc.graph, [mapStore('vae', weights)], { ignore: [...enc.ignore] });
  const dec = vae.decoderGraph({ batch, height: latentSize, width: latentSize });
  await bindCheckpoint(dec.graph, [mapStore('vae', weights)], { ignore: [...dec.ignore] });
  return { encoder: await runtime.createSession(toOnnx(enc.graph), { label: 'vae encoder' }), decoder: await runtime.createSession(toOnnx(dec.graph), { label: 'vae decoder' }), latentSize };
}

export interface VaeReport {
  /** 1/std of the posterior means over the sampled training images. */
  scalingFactor: number;
  /** Mean PSNR (dB, images in [0, 1]) of decode(encode(x).mean) against x on held-out test images. */
  psnr: number;
  /** Test images measured. */
  count: number;
}

/** PSNR of one image pair in [−1, 1] tensors, measured on the [0, 1] scale. */
function psnr(a: Float32Array, b: Float32Array, offset: number, n: number): number {
  let se = 0;
  for (let i = 0; i < n; i++) {
    const d = (Math.max(-1, Math.min(1, a[offset + i]!)) - b[offset + i]!) / 2;
    se += d * d;
  }
  return 10 * Math.log10(1 / Math.max(se / n, 1e-12));
}

/** Measure the trained VAE: scaling factor from `fitCount` training images, PSNR on `testCount` test images. */
export async function measureVae(runtime: Runtime, config: AutoencoderKLConfig, weights: ReadonlyMap<string, Tensor>, fitCount = 1024, testCount = 512): Promise<VaeReport> {
  const batch = 64;
  const { encoder, decoder } = await vaeSessions(runtime, config, weights, batch);
  try {
    let sum = 0;
    let sumSq = 0;
    let n = 0;
    for (let start = 0; start < fitCount; start += batch) {
      const image = imagesToTensor(Array.from({ length: batch }, (_, j) => shapeSample(SPLIT_SEEDS.train, 10_000_000 + start + j).image));
      const mean = (await encoder.run({ image }, ['mean']))['mean'] as Tensor<'float32'>;
      for (const v of mean.data) {
        sum += v;
        sumSq += v * v;
      }
      n += mean.data.length;
    }
    const std = Math.sqrt(sumSq / n - (sum / n) ** 2);
    let total = 0;
    let count = 0;
    for (let start = 0; start < testCount; start += batch) {
      const image = imagesToTensor(Array.from({ length: batch }, (_, j) => shapeSample(SPLIT_SEEDS.test, start + j).image));
      const mean = (await encoder.run({ image }, ['mean']))['mean'] as Tensor<'float32'>;
      const recon = (await decoder.run({ latents: mean }, ['sample']))['sample'] as Tensor<'float32'>;
      const per = image.data.length / batch;
      for (let k = 0; k < batch; k++, count++) total += psnr(recon.data, image.data, k * per, per);
    }
    return { scalingFactor: 1 / std, psnr: total / count, count };
  } finally {
    await encoder.dispose();
    await decoder.dispose();
  }
}

/** Write `<dir>` as a diffusers AutoencoderKL folder with the measured scaling factor. */
export async function writeVaeFolder(dir: string, config: AutoencoderKLConfig, weights: ReadonlyMap<string, Tensor>, scalingFactor: number): Promise<AutoencoderKLConfig> {
  const final = { ...config, scaling_factor: Number(scalingFactor.toPrecision(6)) };
  await writeComponentFolder(dir, { _class_name: 'AutoencoderKL', _diffusers_version: '0.31.0', ...final }, weights, 'diffusion_pytorch_model.safetensors');
  return final;
}
