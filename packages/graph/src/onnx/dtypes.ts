import type { DType } from '@sdxs/tensor';

/** ONNX TensorProto.DataType codes for the dtypes sdxs uses. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  bfloat16: 16,
};
