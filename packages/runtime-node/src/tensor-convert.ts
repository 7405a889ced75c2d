import * as ort from 'onnxruntime-node';
import { isDType, Tensor, type DType } from '@sdxs/tensor';

/** sdxs Tensor → onnxruntime Tensor, sharing the data (no copy). */
export function toOrtTensor(t: Tensor): ort.Tensor {
  if (t.dtype === 'bfloat16') throw new TypeError('onnxruntime-node tensors cannot hold bfloat16; cast to float32 or float16 first');
  return new ort.Tensor(t.dtype, t.data, [...t.shape]);
}

/** onnxruntime Tensor → sdxs Tensor (the data is copied out of the session's output buffer). */
export function fromOrtTensor(name: string, t: ort.Tensor): Tensor {
  const dtype: string = t.type;
  if (!isDType(dtype)) throw new TypeError(`output ${name} has dtype ${dtype}, which sdxs does not use`);
  return new Tensor(dtype satisfies DType, [...t.dims], copyData(t.data, dtype, name));
}

function copyData(data: ort.Tensor['data'], dtype: DType, name: string): Tensor['data'] {
  if (data instanceof Float32Array || data instanceof Uint16Array || data instanceof BigInt64Array || data instanceof Int32Array || data instanceof Uint8Array) {
    return data.slice();
  }
  throw new TypeError(`output ${name} (${dtype}) has unexpected data`);
}
