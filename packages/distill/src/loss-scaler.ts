/** Dynamic loss scaling settings, torch.cuda.amp.GradScaler's arguments and defaults. */
export interface LossScalerOptions {
  /** Default 2¹⁶. */
  initScale?: number;
  /** Default 2. */
  growthFactor?: number;
  /** Default 0.5. */
  backoffFactor?: number;
  /** Successful steps in a row before the scale grows (default 2000). */
  growthInterval?: number;
}

/** What a checkpoint keeps of a scaler (torch's `scaler.state_dict()` fields). */
export interface LossScalerState {
  scale: number;
  growthTracker: number;
}

/**
 * Dynamic loss scaling for float16 training, with GradScaler's semantics: the loss is multiplied by `scale`
 * before the backward pass, gradients by `invScale` (1/scale rounded to float32, as torch does) after it; a step
 * whose gradients hold an inf or a NaN is skipped and the scale multiplied by `backoffFactor`; after
 * `growthInterval` successful steps in a row the scale is multiplied by `growthFactor` (unless that overflows).
 *
 * @example
 * const scaler = new LossScaler({ initScale: 2 ** 16 });
 * scaler.update(foundInf); // after each optimizer step (or skipped step)
 */
export class LossScaler {
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  #scale: number;
  #growthTracker = 0;

  constructor(options: LossScalerOptions = {}) {
    this.#scale = Math.fround(options.initScale ?? 2 ** 16);
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    if (!(this.#scale > 0) || !Number.isFinite(this.#scale)) throw new RangeError(`LossScaler: initScale must be a positive finite number, got ${options.initScale}`);
    if (!(this.growthFactor > 1)) throw new RangeError(`LossScaler: growthFactor must be > 1, got ${this.growthFactor}`);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1)) throw new RangeError(`LossScaler: backoffFactor must be in (0, 1), got ${this.backoffFactor}`);
    if (!(Number.isInteger(this.growthInterval) && this.growthInterval >= 1)) throw new RangeError(`LossScaler: growthInterval must be a positive integer, got ${this.growthInterval}`);
  }

  /** The current scale (a float32 value, as torch keeps it). */
  get scale(): number {
    return this.#scale;
  }

  /** 1/scale rounded to float32: what gradients are multiplied by. */
  get invScale(): number {
    return Math.fround(1 / this.#scale);
  }

  get growthTracker(): number {
    return this.#growthTracker;
  }

  /** torch's `_amp_update_scale_`: back off on inf/NaN, grow after `growthInterval` clean steps. */
  update(foundInf: boolean): void {
    if (foundInf) {
      this.#scale = Math.fround(this.#scale * this.backoffFactor);
      this.#growthTracker = 0;
      return;
    }
    const successful = this.#growthTracker + 1;
    if (successful === this.growthInterval) {
      const grown = Math.fround(this.#scale * this.growthFactor);
      if (Number.isFinite(grown)) this.#scale = grown;
      this.#growthTracker = 0;
    } else this.#growthTracker = successful;
  }

  state(): LossScalerState {
    return { scale: this.#scale, growthTracker: this.#growthTracker };
  }

  load(state: LossScalerState): void {
    this.#scale = state.scale;
    this.#growthTracker = state.growthTracker;
  }
}
