/** `1h02m03s`, `4m05s`, `7s`: a duration for progress lines. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h) return `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
  if (m) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

export interface ProgressInfo {
  step: number;
  steps: number;
  loss: number;
  gradNorm: number;
  skipped: boolean;
  /** Optimizer steps per second over this session. */
  rate: number;
}

/**
 * One progress line: step, loss, gradient norm, steps/s and the ETA of the remaining steps at that rate.
 *
 * @example
 * progressLine({ step: 120, steps: 1000, loss: 0.0123, gradNorm: 0.5, skipped: false, rate: 3.2 });
 * // 'step 120/1000  loss 0.01230  grad 0.500  3.20 steps/s  ETA 4m35s'
 */
export function progressLine(p: ProgressInfo): string {
  const eta = p.rate > 0 ? (p.steps - p.step) / p.rate : Infinity;
  const skipped = p.skipped ? '  (skipped: inf/NaN gradients)' : '';
  return `step ${p.step}/${p.steps}  loss ${p.loss.toPrecision(4)}  grad ${p.gradNorm.toPrecision(3)}  ${p.rate.toFixed(2)} steps/s  ETA ${formatDuration(eta)}${skipped}`;
}
