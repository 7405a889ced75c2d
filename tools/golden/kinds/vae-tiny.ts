import { AutoencoderTiny } from '@sdxs/decoder';
import { readCaseConfig, readCaseInputs, runComponent } from '../component.js';
import type { GoldenCase, KindResult } from '../types.js';

/** `vae-tiny`: AutoencoderTiny `decode(latents).sample` → decoded, `encode(image).latents` → encoded. */
export async function runVaeTiny(c: GoldenCase): Promise<KindResult> {
  const vae = AutoencoderTiny.fromConfig(await readCaseConfig(c), `${c.name}/config.json`);
  const inputs = await readCaseInputs(c);
  const latents = inputs.get('latents');
  const image = inputs.get('image');
  if (!latents || !image) throw new Error(`${c.name}/inputs.safetensors: needs latents and image`);
  // Batch, height and width stay symbolic: the same graph serves every size.
  const dec = vae.decoderGraph();
  const enc = vae.encoderGraph();
  const decoded = await runComponent(c, dec.graph, { latents }, () => ({ ignore: dec.ignore }));
  const encoded = await runComponent(c, enc.graph, { image }, () => ({ ignore: enc.ignore }));
  const outputs = new Map([
    ['decoded', decoded.get('sample')!],
    ['encoded', encoded.get('latents')!],
  ]);
  return { outputs, tolerance: { relative: 1e-4 } };
}
