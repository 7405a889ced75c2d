import { castTensor, Tensor } from '@sdxs/tensor';

/** A float32 copy of `t` (cast from half types), never sharing its storage. */
export function float32Copy(t: Tensor): Tensor<'float32'> {
  if (t.data instanceof Float32Array) return new Tensor('float32', t.shape, t.data.slice());
  return castTensor(t, 'float32');
}

/** The float32 data of `t`, or a TypeError naming `what`. */
export function float32Data(t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'float32' || !(t.data instanceof Float32Array)) throw new TypeError(`${what} must be float32, got ${t.dtype}`);
  return t.data;
}

/** A float32 scalar tensor []. */
export function scalarTensor(v: number): Tensor<'float32'> {
  return new Tensor('float32', [], Float32Array.of(v));
}
