import { DTYPES, type DType } from '../dtype.js';

/** safetensors dtype spellings of the dtypes sdxs supports. */
export const SAFETENSORS_DTYPES: Readonly<Record<DType, string>> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

const FROM_SAFETENSORS: ReadonlyMap<string, DType> = new Map(DTYPES.map((d) => [SAFETENSORS_DTYPES[d], d]));

/** Our dtype for a safetensors dtype string, or undefined if sdxs does not support it. */
export function dtypeFromSafetensors(code: string): DType | undefined {
  return FROM_SAFETENSORS.get(code);
}

/**
 * Position of each dtype in the reference implementation's `Dtype` enum (BOOL < U8 < ... < F16 < BF16 < I32 <
 * F32 < I64). Its writer lays tensors out by this rank, highest first, then by name; following it keeps every
 * tensor aligned to its element size and makes our files byte-identical to the reference's.
 */
export const REFERENCE_DTYPE_RANK: Readonly<Record<DType, number>> = {
  bool: 0,
  uint8: 1,
  float16: 5,
  bfloat16: 6,
  int32: 7,
  float32: 9,
  int64: 11,
};
