export { bfloat16BitsToNumber, bfloat16ToFloat32, float32ToBfloat16, numberToBfloat16Bits } from './bfloat16.js';
export { castTensor, type CastFloatDType } from './cast.js';
export { float16BitsToNumber, float16ToFloat32, float32ToFloat16, numberToFloat16Bits } from './float16.js';
