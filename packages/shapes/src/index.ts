// @sdxs/shapes: the synthetic captioned shapes data set and its evaluator.
export { SampleRandom } from './random.js';
export { SHAPES, COLORS, COLOR_RGB, SHAPE_WORDS, COLOR_WORDS, allAttributeCombinations, type ShapeName, type ColorName, type ShapeAttributes } from './vocabulary.js';
export { caption, canonicalCaption, grammarWords, parsePrompt } from './caption.js';
export { corners, shapeDistance, polygonDistance, type Placement } from './geometry.js';
export { renderShape, type RgbImage } from './render.js';
export { sketchOutline } from './sketch.js';
export { shapeSample, imagesToTensor, tensorToImages, rgbaToRgb, SHAPES_IMAGE_SIZE, SPLIT_SEEDS, type ShapeSample, type SampleOptions } from './dataset.js';
export * from './evaluator/index.js';
