export { conv2d, type Conv2dOptions } from './conv2d.js';
export { linear } from './linear.js';
