import type { KindRunner } from '../types.js';
import { runRng } from './rng.js';
import { runTextEncoder } from './text-encoder.js';

/** Golden case kinds the project implements, by `kind` in case.json. Later issues add theirs here. */
export const KINDS: Readonly<Record<string, KindRunner>> = {
  rng: runRng,
  'text-encoder': runTextEncoder,
};
