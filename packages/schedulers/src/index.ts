export type { Scheduler, SchedulerOutput, StepCoefficients, StepOptions } from './scheduler.js';
export { SchedulerConfigError, parsePythonJson } from './common/config.js';
export { SCHEDULERS, schedulerFromConfig, type AnyScheduler, type SchedulerClassName } from './registry.js';
export {
  EulerDiscreteScheduler,
  EULER_DISCRETE_FIELDS,
  type EulerDiscreteConfig,
  type EulerDiscreteOutput,
  type EulerDiscreteStepOptions,
} from './euler-discrete.js';
export {
  EulerAncestralDiscreteScheduler,
  EULER_ANCESTRAL_DISCRETE_FIELDS,
  type EulerAncestralDiscreteConfig,
  type EulerAncestralDiscreteOutput,
  type EulerAncestralDiscreteStepOptions,
} from './euler-ancestral-discrete.js';
export { DDPMScheduler, DDPM_FIELDS, type DDPMConfig, type DDPMOutput, type DDPMStepOptions } from './ddpm.js';
export { DDIMScheduler, DDIM_FIELDS, type DDIMConfig, type DDIMOutput, type DDIMStepOptions } from './ddim.js';
export {
  LCMScheduler,
  LCM_FIELDS,
  lcmBoundaryScalings,
  type LCMConfig,
  type LCMOutput,
  type LCMSetTimestepsOptions,
  type LCMStepOptions,
} from './lcm.js';
export {
  DPMSolverMultistepScheduler,
  DPMSOLVER_MULTISTEP_FIELDS,
  type DPMSolverMultistepConfig,
  type DPMSolverMultistepStepOptions,
} from './dpmsolver-multistep.js';
export { applyStepCoefficients } from './coefficients.js';
