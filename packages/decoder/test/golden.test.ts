// AutoencoderTiny and AutoencoderKL against diffusers (../shared/golden/vae-tiny, vae-kl), through the real path:
// config.json → graph → bindCheckpoint(model.safetensors) → onnxruntime-node.
import { describe, expect, it } from 'vitest';
import { AutoencoderKL, AutoencoderTiny, type VaeGraph } from '@sdxs/decoder';
import { shapeSize } from '@sdxs/tensor';
import { caseConfig, caseSpec, caseTensors, relativeError, runWithCaseWeights } from './_golden.js';

const TOLERANCE = 1e-4;

describe('AutoencoderTiny (vae-tiny)', async () => {
  const vae = AutoencoderTiny.fromConfig(caseConfig('vae-tiny'), 'vae-tiny/config.json');
  const inputs = await caseTensors('vae-tiny', 'inputs.safetensors');
  const reference = await caseTensors('vae-tiny', 'outputs.safetensors');

  it('decode(latents).sample matches diffusers (image in [−1, 1])', async () => {
    const { graph, ignore } = vae.decoderGraph();
    const { sample } = await runWithCaseWeights('vae-tiny', graph, ignore, { latents: inputs.get('latents')! });
    const err = relativeError(sample, reference.get('decoded'));
    console.log(`vae-tiny decoded: rel ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });

  it('encode(image).latents matches diffusers', async () => {
    const { graph, ignore } = vae.encoderGraph();
    const { latents } = await runWithCaseWeights('vae-tiny', graph, ignore, { image: inputs.get('image')! });
    const err = relativeError(latents, reference.get('encoded'));
    console.log(`vae-tiny encoded: rel ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });

  it('declares exactly the checkpoint’s parameters (case.json counts them)', () => {
    const count = ({ graph }: VaeGraph) => [...graph.initializers.values()].filter((i) => i.data === undefined).reduce((n, i) => n + shapeSize(i.shape), 0);
    expect(count(vae.decoderGraph()) + count(vae.encoderGraph())).toBe(caseSpec('vae-tiny')['params']);
  });
});

describe('AutoencoderKL (vae-kl)', async () => {
  const vae = AutoencoderKL.fromConfig(caseConfig('vae-kl'), 'vae-kl/config.json');
  const inputs = await caseTensors('vae-kl', 'inputs.safetensors');
  const reference = await caseTensors('vae-kl', 'outputs.safetensors');
  const latents = inputs.get('latents')!;
  const image = inputs.get('image')!;

  it('decode(latents).sample matches diffusers', async () => {
    const { graph, ignore } = vae.decoderGraph({ height: latents.shape[2], width: latents.shape[3] });
    const { sample } = await runWithCaseWeights('vae-kl', graph, ignore, { latents });
    const err = relativeError(sample, reference.get('decoded'));
    console.log(`vae-kl decoded: rel ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(TOLERANCE);
  });

  it('encode(image).latent_dist mean and logvar match diffusers', async () => {
    const { graph, ignore } = vae.encoderGraph({ height: image.shape[2], width: image.shape[3] });
    const out = await runWithCaseWeights('vae-kl', graph, ignore, { image });
    for (const name of ['mean', 'logvar'] as const) {
      const err = relativeError(out[name], reference.get(name));
      console.log(`vae-kl ${name}: rel ${err.toExponential(2)}`);
      expect(err, name).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});
