import { AutoencoderKL } from '@sdxs/decoder';
import { readCaseConfig, readCaseInputs, runComponent } from '../component.js';
import type { GoldenCase, KindResult } from '../types.js';

/** `vae-kl`: AutoencoderKL `decode(latents).sample` → decoded; `encode(image).latent_dist` → mean, logvar. */
export async function runVaeKl(c: GoldenCase): Promise<KindResult> {
  const vae = AutoencoderKL.fromConfig(await readCaseConfig(c), `${c.name}/config.json`);
  const inputs = await readCaseInputs(c);
  const latents = inputs.get('latents');
  const image = inputs.get('image');
  if (!latents || !image) throw new Error(`${c.name}/inputs.safetensors: needs latents and image`);
  // The mid-block attention needs the spatial size when the graph is built; the batch stays symbolic.
  const dec = vae.decoderGraph({ height: latents.shape[2], width: latents.shape[3] });
  const enc = vae.encoderGraph({ height: image.shape[2], width: image.shape[3] });
  const decoded = await runComponent(c, dec.graph, { latents }, () => ({ ignore: dec.ignore }));
  const encoded = await runComponent(c, enc.graph, { image }, () => ({ ignore: enc.ignore }));
  const outputs = new Map([
    ['decoded', decoded.get('sample')!],
    ['mean', encoded.get('mean')!],
    ['logvar', encoded.get('logvar')!],
  ]);
  return { outputs, tolerance: { relative: 1e-4 } };
}
