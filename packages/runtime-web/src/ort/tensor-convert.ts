import type { Tensor as OrtTensor } from 'onnxruntime-web';
import { isDType, Tensor } from '@sdxs/tensor';

/** The onnxruntime-web module (either entry point: both export the same API). */
export type OrtModule = typeof import('onnxruntime-web');

/** sdxs Tensor → onnxruntime-web Tensor, sharing the data (no copy). */
export function toOrtTensor(ort: OrtModule, t: Tensor): OrtTensor {
  if (t.dtype === 'bfloat16') throw new TypeError('onnxruntime-web tensors cannot hold bfloat16; cast to float32 or float16 first');
  // float16 travels as its raw bits in a Uint16Array, which onnxruntime-web accepts even where Float16Array exists.
  return new ort.Tensor(t.dtype, t.data, [...t.shape]);
}

/**
 * onnxruntime-web Tensor (on the CPU) → sdxs Tensor. The data is copied: onnxruntime may reuse the output
 * buffer after the next run, and a float16 output may come back as a Float16Array, whose bits we keep.
 */
export function fromOrtTensor(name: string, t: OrtTensor): Tensor {
  const type: string = t.type;
  const dims = [...t.dims];
  const data: unknown = t.data;
  if (!isDType(type)) throw new TypeError(`output ${name} has dtype ${type}, which sdxs does not use`);
  switch (type) {
    case 'float32':
      if (data instanceof Float32Array) return new Tensor(type, dims, data.slice());
      break;
    case 'float16':
      if (ArrayBuffer.isView(data)) return new Tensor(type, dims, new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2).slice());
      break;
    case 'int64':
      if (data instanceof BigInt64Array) return new Tensor(type, dims, data.slice());
      break;
    case 'int32':
      if (data instanceof Int32Array) return new Tensor(type, dims, data.slice());
      break;
    case 'uint8':
    case 'bool':
      if (data instanceof Uint8Array) return new Tensor(type, dims, data.slice());
      break;
    case 'bfloat16':
      break;
  }
  throw new TypeError(`output ${name} (${type}) came back with unexpected data`);
}
