// diffusers.models.unets.unet_2d_blocks.AutoencoderTinyBlock (TAESD's `Block`).
import { Add, Relu, conv2d, type Params, type Value } from '@sdxs/graph';
import { activate, type Activation } from '../activation.js';

/**
 * AutoencoderTinyBlock: `fuse(conv(x) + skip(x))` where conv is Conv3×3 → act → Conv3×3 → act → Conv3×3
 * (`conv.0`, `conv.2`, `conv.4`), skip is a bias-free 1×1 conv when the width changes (else identity), and
 * fuse is always a ReLU (nn.ReLU, whatever `act_fn` says).
 *
 * @example
 * const h = autoencoderTinyBlock(decoder.child('layers').child(2), x, 64, 64, 'relu');
 */
export function autoencoderTinyBlock(p: Params, x: Value, inChannels: number, outChannels: number, actFn: Activation): Value {
  return p.scoped(() => {
    const conv = p.child('conv');
    let h = activate(conv2d(conv.child(0), x, inChannels, outChannels, 3, { padding: 1 }), actFn);
    h = activate(conv2d(conv.child(2), h, outChannels, outChannels, 3, { padding: 1 }), actFn);
    h = conv2d(conv.child(4), h, outChannels, outChannels, 3, { padding: 1 });
    const skip = inChannels === outChannels ? x : conv2d(p.child('skip'), x, inChannels, outChannels, 1, { bias: false });
    return Relu(Add(h, skip));
  });
}
