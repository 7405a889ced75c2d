// diffusers.models.resnet.ResnetBlock2D without a time embedding (temb_channels=None), as the VAE uses it.
import { Add, Div, conv2d, type Params, type Value } from '@sdxs/graph';
import type { Activation } from '../activation.js';
import { groupNormAct } from './norm-act.js';

export interface ResnetBlock2DOptions {
  inChannels: number;
  outChannels: number;
  groups: number;
  eps: number;
  actFn: Activation;
  /** The sum is divided by this (diffusers' `output_scale_factor`; 1 in the VAE). */
  outputScaleFactor?: number;
}

/**
 * ResnetBlock2D: norm1 → act → conv1 → norm2 → act → (dropout) → conv2, plus the input (through a 1×1
 * `conv_shortcut` when the width changes), divided by `output_scale_factor`.
 *
 * @example
 * const h = resnetBlock2D(block.child('resnets').child(0), x, { inChannels: 64, outChannels: 32, groups: 32, eps: 1e-6, actFn: 'silu' });
 */
export function resnetBlock2D(p: Params, x: Value, o: ResnetBlock2DOptions): Value {
  return p.scoped(() => {
    let h = groupNormAct(p.child('norm1'), x, o.inChannels, o.groups, o.eps, o.actFn);
    h = conv2d(p.child('conv1'), h, o.inChannels, o.outChannels, 3, { padding: 1 });
    h = groupNormAct(p.child('norm2'), h, o.outChannels, o.groups, o.eps, o.actFn);
    h = conv2d(p.child('conv2'), h, o.outChannels, o.outChannels, 3, { padding: 1 });
    const skip = o.inChannels === o.outChannels ? x : conv2d(p.child('conv_shortcut'), x, o.inChannels, o.outChannels, 1);
    const sum = Add(skip, h);
    const f = o.outputScaleFactor ?? 1;
    return f === 1 ? sum : Div(sum, f);
  });
}
