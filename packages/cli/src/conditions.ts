/**
 * The image-condition flags of `sdxs generate` and `sdxs sketch`: a control image for a ControlNet
 * (--control, --control-mode, --control-scale, --canny-low/--canny-high, --controlnet) and an initial image for
 * img2img (--init-image, --strength).
 */
import type { ControlNetRequest } from '@sdxs/pipeline';
import { choiceFlag, numberFlag } from './args.js';
import { UsageError } from './errors.js';

export type ControlMode = NonNullable<ControlNetRequest['controlMode']>;
export const CONTROL_MODES = ['raw', 'sketch', 'canny'] as const satisfies readonly ControlMode[];

/** util.parseArgs options of the ControlNet settings (the control image itself is command-specific). */
export const CONTROL_OPTIONS = {
  'control-mode': { type: 'string' },
  'control-scale': { type: 'string' },
  'canny-low': { type: 'string' },
  'canny-high': { type: 'string' },
  controlnet: { type: 'string' },
} as const;

/** Help lines of {@link CONTROL_OPTIONS}, naming the command's default mode. */
export function controlHelp(defaultMode: ControlMode): string {
  const d = (m: ControlMode) => (m === defaultMode ? ' (default)' : '');
  return `      --control-mode <m>   raw${d('raw')}: the image as is; sketch${d('sketch')}: dark strokes on white, inverted
                           as the SDXS sketch model wants; canny${d('canny')}: its edges
      --control-scale <s>  ControlNet conditioning scale (default 0.8 with sketch, the SDXS sketch model's
                           recommended value; 1 otherwise)
      --canny-low <t>      canny's lower and upper thresholds (default 100 and 200)
      --canny-high <t>
      --controlnet <dir|repo>  a ControlNetModel folder or repo id, e.g. IDKiro/sdxs-512-dreamshaper-sketch
                           (default: the model's own controlnet/ folder)`;
}

interface ControlValues {
  'control-mode'?: string | undefined;
  'control-scale'?: string | undefined;
  'canny-low'?: string | undefined;
  'canny-high'?: string | undefined;
  controlnet?: string | undefined;
}

/** What a ControlNet run takes besides the image. */
export interface ControlSettings {
  readonly mode: ControlMode;
  readonly scale: number;
  readonly options: NonNullable<ControlNetRequest['controlOptions']>;
  /** --controlnet as typed, or undefined for the model's own controlnet/. */
  readonly controlnet: string | undefined;
}

/** Largest conditioning scale accepted: diffusers allows any float; past this it is a typo, not a setting. */
const MAX_SCALE = 100;

/** Check the ControlNet flags; `defaultMode` is the command's (generate: raw, sketch: sketch). */
export function controlSettings(command: string, values: ControlValues, defaultMode: ControlMode): ControlSettings {
  const mode = choiceFlag(command, 'control-mode', values['control-mode'], CONTROL_MODES) ?? defaultMode;
  const scale = numberFlag(command, 'control-scale', values['control-scale']) ?? (mode === 'sketch' ? 0.8 : 1);
  if (scale < 0 || scale > MAX_SCALE) throw new UsageError(`--control-scale must be from 0 to ${MAX_SCALE}, got ${values['control-scale']}`, command);
  const low = numberFlag(command, 'canny-low', values['canny-low']);
  const high = numberFlag(command, 'canny-high', values['canny-high']);
  if ((low !== undefined || high !== undefined) && mode !== 'canny') throw new UsageError(`--canny-low and --canny-high are only used with --control-mode canny`, command);
  for (const [flag, v] of [['canny-low', low], ['canny-high', high]] as const) {
    if (v !== undefined && v < 0) throw new UsageError(`--${flag} must not be negative, got ${v}`, command);
  }
  if ((low ?? 100) > (high ?? 200)) throw new UsageError(`--canny-low (${low ?? 100}) must not be above --canny-high (${high ?? 200})`, command);
  return {
    mode,
    scale,
    options: { ...(low !== undefined ? { low } : {}), ...(high !== undefined ? { high } : {}) },
    controlnet: values.controlnet,
  };
}

const CONTROL_FLAGS = ['control-mode', 'control-scale', 'canny-low', 'canny-high', 'controlnet'] as const satisfies readonly (keyof ControlValues & keyof typeof CONTROL_OPTIONS)[];

/** The first ControlNet setting given, if any (generate refuses them without --control). */
export function anyControlFlag(values: ControlValues): string | undefined {
  return CONTROL_FLAGS.find((k) => values[k] !== undefined);
}

/** `--strength`: img2img's strength in [0, 1] (default 0.8, diffusers' and the pipeline's). */
export function strengthFlag(command: string, value: string | undefined): number {
  const s = numberFlag(command, 'strength', value) ?? 0.8;
  if (s < 0 || s > 1) throw new UsageError(`--strength must be from 0 to 1, got ${value}`, command);
  return s;
}
