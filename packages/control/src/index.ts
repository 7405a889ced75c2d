export { canny, type CannyOptions } from './image/canny.js';
export { channelsOf, toRGB, type GrayImage, type Pixels } from './image/pixels.js';
