export {
  imagesToTensor,
  imageToTensor,
  tensorToImage,
  type ImageInput,
  type ImageToTensorOptions,
  type RawImage,
  type TensorToImageOptions,
} from './convert.js';
export { resize, type ResizeMode } from './resize.js';
export { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, type PixelRange } from './validate.js';
