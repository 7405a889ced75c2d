// Reference gradients (golden kind `grad`, PyTorch autograd through diffusers) through the `grad` kind of the
// golden runner: the project's autodiff on the real models, one ONNX Runtime session per case.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { caseFile } from '../../../tools/golden/links.js';
import { runCase } from '../../../tools/golden/run.js';
import { GOLDEN, haveGolden } from './_helpers.js';

const maxAbs = (t: Tensor) => Math.max(...t.toArray().map(Math.abs));

describe.skipIf(!haveGolden)('golden gradients', () => {
  it('grad-unet-sdxs512: every parameter and input gradient within 1e-4 of its scale, but the structurally zero ones', async () => {
    const report = await runCase(join(GOLDEN, 'grad-unet-sdxs512'));
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    // A per-channel constant added right before a GroupNorm with one channel per group (32 channels, 32 groups here)
    // is normalised away, so its gradient is exactly zero, which PyTorch and ONNX Runtime both compute as rounding
    // noise (≈3e-6): "relative to its scale" would compare noise with noise. In this layout that is conv1's bias and
    // the time embedding projection of the 32-channel resnets (before norm2), and the last resnet's conv2 and shortcut
    // biases (before conv_norm_out).
    const zero = /^grad\.(down_blocks\.0\.resnets\.0|up_blocks\.2\.resnets\.[01])\.(conv1\.bias|time_emb_proj\.(weight|bias))$|^grad\.up_blocks\.2\.resnets\.1\.(conv2|conv_shortcut)\.bias$/;
    const strict = report.comparisons.filter((c) => !zero.test(c.output));
    expect(strict.length).toBe(report.comparisons.length - 11);
    expect(strict.filter((c) => !c.ok).map((c) => `${c.output}: ${c.maxRel}`)).toEqual([]);
    // The zero ones: ours and the reference are both at noise level next to the same resnet's conv1 weight gradient.
    const ref = await openSafetensorsFile(caseFile(join(GOLDEN, 'grad-unet-sdxs512'), 'outputs.safetensors'));
    for (const c of report.comparisons.filter((x) => zero.test(x.output))) {
      const resnet = c.output.replace(/\.(conv1|conv2|conv_shortcut|time_emb_proj)\.(weight|bias)$/, '');
      const scale = maxAbs(await ref.read(`${resnet}.conv1.weight`));
      expect(maxAbs(report.computed.get(c.output)!), c.output).toBeLessThan(1e-4 * scale);
      expect(maxAbs(await ref.read(c.output)), c.output).toBeLessThan(1e-4 * scale);
    }
    await ref.close();
  });

  it('grad-vae-tiny-decoder: the loss and the gradients up to the first ReLU kink within 1e-4', async () => {
    const report = await runCase(join(GOLDEN, 'grad-vae-tiny-decoder'));
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    // Everything behind the last block's fusing ReLU differs by up to ~7e-3 of its scale: at one pixel that ReLU's
    // input is +1.2e-7 in exact arithmetic (4 float32 ulps of its 0.34-sized terms), positive in PyTorch's float32,
    // −1.2e-7 in ONNX Runtime's, so one pixel's gradient is kept by one and dropped by the other. An exact float64
    // evaluation misses the reference by as much (6.7e-3): the case is ill-conditioned there, not the backward pass.
    const beforeKink = report.comparisons.filter((c) => c.output === 'loss' || c.output.startsWith('grad.decoder.layers.18.'));
    expect(beforeKink.length).toBe(3);
    expect(beforeKink.filter((c) => !c.ok).map((c) => `${c.output}: ${c.maxRel}`)).toEqual([]);
  });
});
