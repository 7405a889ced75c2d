/** Config fields several schedulers share, with each scheduler's own defaults. */
import { TIMESTEP_SPACINGS, type TimestepSpacing } from './timesteps.js';
import { betasField, boolField, enumField, floatField, intField, type Field } from './config.js';
import type { BetaSchedule } from './betas.js';

const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];

/** The fields of `BetaConfig` (see betas.ts); `unsupported` lists schedules only some diffusers classes take. */
export function betaFields(defaults: { beta_start: number; beta_end: number; beta_schedule: BetaSchedule }, unsupported: readonly string[] = []) {
  return {
    num_train_timesteps: intField(1000, 2),
    beta_start: floatField(defaults.beta_start),
    beta_end: floatField(defaults.beta_end),
    beta_schedule: enumField(BETA_SCHEDULES, defaults.beta_schedule, { unsupported }),
    trained_betas: betasField(),
    rescale_betas_zero_snr: boolField(false),
  };
}

/** `timestep_spacing` with a scheduler's default. */
export function spacingField(defaultValue: TimestepSpacing): Field<TimestepSpacing> {
  return enumField(TIMESTEP_SPACINGS, defaultValue);
}

/** `trained_betas` must have one beta per training step. */
export function checkTrainedBetas(config: { trained_betas: readonly number[] | null; num_train_timesteps: number }): string[] {
  const betas = config.trained_betas;
  return betas !== null && betas.length !== config.num_train_timesteps
    ? [`field "trained_betas": ${betas.length} values for num_train_timesteps ${config.num_train_timesteps}`]
    : [];
}
