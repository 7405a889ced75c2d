import { Add } from '../ops/add.js';
import { Mul } from '../ops/mul.js';
import { Sigmoid } from '../ops/sigmoid.js';
import { Sub } from '../ops/sub.js';
import { inputAt, type GradFn } from './_rule.js';
import { attrOr } from './_util.js';

/** com.microsoft.QuickGelu, y = x·σ(αx): y' = σ + αx·σ(1 − σ) (SiLU when α = 1). */
export const msQuickGeluGrad: GradFn = (args) => {
  const x = inputAt(args, 0);
  const alpha = attrOr(args.node, 'alpha', 'float', 1.702);
  return [
    () => {
      const s = Sigmoid(Mul(x, alpha));
      return Mul(args.dy, Add(s, Mul(Mul(Mul(x, alpha), s), Sub(1, s))));
    },
  ];
};
