/**
 * `_class_name` → scheduler, as diffusers' `SchedulerMixin.from_pretrained` resolves a scheduler_config.json.
 */
import { readJson, SchedulerConfigError } from './common/config.js';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { DPMSolverMultistepScheduler } from './dpmsolver-multistep.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete.js';
import { EulerDiscreteScheduler } from './euler-discrete.js';
import { LCMScheduler } from './lcm.js';

/** The schedulers sdxs implements, under diffusers' class names. */
export const SCHEDULERS = {
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  DDPMScheduler,
  DDIMScheduler,
  LCMScheduler,
  DPMSolverMultistepScheduler,
} as const;

export type SchedulerClassName = keyof typeof SCHEDULERS;

/** Any scheduler `schedulerFromConfig` can return. */
export type AnyScheduler = InstanceType<(typeof SCHEDULERS)[SchedulerClassName]>;

function isClassName(name: string): name is SchedulerClassName {
  return Object.hasOwn(SCHEDULERS, name);
}

/**
 * Builds the scheduler a scheduler_config.json describes (`json`: its text or parsed object; `file` names it in
 * errors). `className` loads the config into another class instead, as diffusers'
 * `OtherScheduler.from_config(pipe.scheduler.config)` swaps schedulers; fields the new class does not take are
 * ignored.
 *
 * @example
 * const scheduler = schedulerFromConfig(readFileSync(path, 'utf8'), path);
 * const lcm = schedulerFromConfig(readFileSync(path, 'utf8'), path, { className: 'LCMScheduler' });
 */
export function schedulerFromConfig(json: unknown, file: string, options: { className?: SchedulerClassName } = {}): AnyScheduler {
  const raw = readJson(json);
  let name: string | undefined = options.className;
  if (name === undefined) {
    const field = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>)._class_name : undefined;
    if (typeof field !== 'string') {
      throw new SchedulerConfigError(file, [`field "_class_name": expected a scheduler class name, got ${field === undefined ? 'nothing' : JSON.stringify(field)}`]);
    }
    name = field;
  }
  if (!isClassName(name)) {
    throw new SchedulerConfigError(file, [`field "_class_name": unknown or unsupported scheduler "${name}"; supported: ${Object.keys(SCHEDULERS).join(', ')}`]);
  }
  return SCHEDULERS[name].fromConfig(raw, file);
}
