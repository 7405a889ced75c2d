/**
 * Control images for a ControlNet, as diffusers' ControlNet pipelines prepare them (`prepare_image`, which runs
 * `VaeImageProcessor(do_convert_rgb=True, do_normalize=False).preprocess`): RGB, resized to the output size,
 * divided by 255 into [0, 1], NCHW. The mode is what the user does before handing the image over: `raw` as is,
 * `sketch` inverted (the SDXS sketch demo passes `255 - np.array(image)`: white strokes on black), `canny` the
 * edges of cv2.Canny on the RGB image, repeated into three channels (diffusers' ControlNet docs).
 * The channel order stays RGB: a `bgr` ControlNet flips the channels itself, in its graph, as diffusers' does.
 */
import { imagesToTensor, resize, type ResizeMode, type Tensor } from '@sdxs/tensor';
import { canny } from './canny.js';
import { channelsOf, toRGB, type Pixels } from './pixels.js';

/** `raw`: the image itself; `sketch`: inverted (dark strokes on white become white on black); `canny`: its edges. */
export type ControlMode = 'raw' | 'sketch' | 'canny';

export interface ControlPixelsOptions {
  mode?: ControlMode;
  /** Canny thresholds (cv2.Canny's threshold1, threshold2; default 100 and 200, as in diffusers' examples). */
  low?: number;
  high?: number;
  l2Gradient?: boolean;
  /**
   * RGBA input: `'drop'` (default) discards alpha, as PIL's `convert("RGB")` does; `'white'` composites over white
   * first (round(v·a/255 + 255·(1 − a/255))), for canvases whose untouched pixels are transparent black.
   */
  alpha?: 'drop' | 'white';
}

export interface ControlImageOptions extends ControlPixelsOptions {
  /** Output size (the pipeline's width and height); default the input's. */
  width?: number;
  height?: number;
  /**
   * How to resize when the size differs: `'nearest'` (default, what diffusers does for array and tensor inputs:
   * `F.interpolate` with its default mode; keeps edge maps and strokes binary) or `'bilinear'`. PIL's Lanczos, used
   * for PIL inputs, is not reproduced.
   */
  resize?: ResizeMode;
}

/** An 8-bit RGB image. */
export interface RGBPixels extends Pixels {
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly channels: 3;
}

function overWhite(image: Pixels): Uint8Array {
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const a = src[p * 4 + 3]!;
    // Integer round-half-up of (v·a + 255·(255 − a)) / 255.
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.floor((src[p * 4 + k]! * a + 255 * (255 - a) + 127) / 255);
  }
  return out;
}

/**
 * The control image as 8-bit RGB at the input's size, before diffusers' preprocessing: the image (`raw`), its
 * inverse (`sketch`) or its Canny edges in three channels (`canny`). Useful to show what the ControlNet sees.
 *
 * @example
 * const edges = controlImagePixels({ width, height, data: rgba }, { mode: 'canny', low: 100, high: 200 });
 */
export function controlImagePixels(image: Pixels, options: ControlPixelsOptions = {}): RGBPixels {
  const cn = channelsOf(image, 'control image');
  const { width, height } = image;
  const rgb = cn === 4 && options.alpha === 'white' ? overWhite(image) : toRGB(image);
  const mode = options.mode ?? 'raw';
  switch (mode) {
    case 'raw':
      return { width, height, data: rgb, channels: 3 };
    case 'sketch': {
      const data = new Uint8Array(rgb.length);
      for (let i = 0; i < rgb.length; i++) data[i] = 255 - rgb[i]!;
      return { width, height, data, channels: 3 };
    }
    case 'canny': {
      const edges = canny({ width, height, data: rgb, channels: 3 }, options.low ?? 100, options.high ?? 200, { l2Gradient: options.l2Gradient ?? false }).data;
      const data = new Uint8Array(edges.length * 3);
      for (let p = 0; p < edges.length; p++) data[p * 3] = data[p * 3 + 1] = data[p * 3 + 2] = edges[p]!;
      return { width, height, data, channels: 3 };
    }
    default:
      throw new RangeError(`control image mode must be 'raw', 'sketch' or 'canny', got ${JSON.stringify(mode)}`);
  }
}

/**
 * The ControlNet's `controlnet_cond` for one image: [1, 3, height, width] float32 in [0, 1] (v / 255 in float32, as
 * diffusers' `pil_to_numpy`), RGB, resized to the output size.
 *
 * @example
 * const cond = prepareControlImage(sketchPad, { mode: 'sketch', width: 512, height: 512, alpha: 'white' });
 */
export function prepareControlImage(image: Pixels, options: ControlImageOptions = {}): Tensor<'float32'> {
  const pixels = controlImagePixels(image, options);
  const t = imagesToTensor([pixels], { range: '0,1', channels: 3 });
  const height = options.height ?? image.height;
  const width = options.width ?? image.width;
  if (height === image.height && width === image.width) return t;
  return resize(t, height, width, options.resize ?? 'nearest');
}
