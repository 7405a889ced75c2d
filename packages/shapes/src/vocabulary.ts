// The attributes of a shapes sample and the words a caption may use for each.

export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type ShapeName = (typeof SHAPES)[number];

/** One palette for objects and backgrounds; an object never has its background's colour. */
export const COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'white', 'black'] as const;
export type ColorName = (typeof COLORS)[number];

/** sRGB of each colour (a sample jitters it a little). */
export const COLOR_RGB: Readonly<Record<ColorName, readonly [number, number, number]>> = {
  red: [220, 40, 40],
  orange: [245, 140, 30],
  yellow: [240, 220, 50],
  green: [40, 170, 70],
  blue: [40, 90, 220],
  purple: [140, 60, 190],
  white: [245, 245, 245],
  black: [20, 20, 20],
};

/** Words for each shape (the first is the canonical one). */
export const SHAPE_WORDS: Readonly<Record<ShapeName, readonly string[]>> = {
  circle: ['circle', 'disk', 'dot', 'round shape'],
  square: ['square', 'box', 'block'],
  triangle: ['triangle', 'wedge', 'three-sided shape'],
};

/** Words for each colour (the first is the canonical one). */
export const COLOR_WORDS: Readonly<Record<ColorName, readonly string[]>> = {
  red: ['red', 'crimson'],
  orange: ['orange'],
  yellow: ['yellow', 'golden'],
  green: ['green'],
  blue: ['blue', 'azure'],
  purple: ['purple', 'violet'],
  white: ['white'],
  black: ['black', 'dark'],
};

/** The attributes a caption names and the evaluator predicts. */
export interface ShapeAttributes {
  readonly shape: ShapeName;
  readonly color: ColorName;
  readonly background: ColorName;
}

/** Every attribute combination (object colour ≠ background), in a fixed order. */
export function allAttributeCombinations(): ShapeAttributes[] {
  const out: ShapeAttributes[] = [];
  for (const shape of SHAPES) for (const color of COLORS) for (const background of COLORS) if (color !== background) out.push({ shape, color, background });
  return out;
}
