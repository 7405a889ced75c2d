/**
 * The generator state in PyTorch's byte layout (`CPUGeneratorImplState` in
 * aten/src/ATen/CPUGeneratorImpl.cpp, little-endian x86-64), so a state saved here loads into
 * `torch.Generator().set_state(torch.tensor(bytes, dtype=torch.uint8))` and back.
 *
 *   0  u64 the_initial_seed      8  i32 left      12 i32 seeded     16 u64 next
 *   24 u64 state[624]            5016 f64 normal_x (unused, 0)      5024 f64 normal_y
 *   5032 f64 normal_rho (unused, 0)   5040 i32 normal_is_valid     5048 f32 next_float_normal_sample
 *   5052 u8 is_next_float_normal_sample_valid; padding is zero; 5056 bytes in all.
 */

import { MT_N, type MT19937 } from './mt19937.js';

export const STATE_BYTES = 5056;

const OFF_SEED = 0;
const OFF_LEFT = 8;
const OFF_SEEDED = 12;
const OFF_NEXT = 16;
const OFF_STATE = 24;
const OFF_NORMAL_Y = 5024;
const OFF_NORMAL_VALID = 5040;
const OFF_FLOAT_NORMAL = 5048;
const OFF_FLOAT_VALID = 5052;

/** What the state holds besides the engine: the Box–Muller spare values. */
export interface NormalCaches {
  nextDoubleNormal: number | null;
  nextFloatNormal: number | null;
}

export function encodeState(engine: MT19937, caches: NormalCaches): Uint8Array {
  const bytes = new Uint8Array(STATE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(OFF_SEED, engine.seed, true);
  view.setInt32(OFF_LEFT, engine.left, true);
  view.setInt32(OFF_SEEDED, 1, true);
  view.setBigUint64(OFF_NEXT, BigInt(engine.next), true);
  for (let k = 0; k < MT_N; k++) view.setUint32(OFF_STATE + 8 * k, engine.state[k]!, true); // high words stay 0
  if (caches.nextDoubleNormal !== null) {
    view.setFloat64(OFF_NORMAL_Y, caches.nextDoubleNormal, true);
    view.setInt32(OFF_NORMAL_VALID, 1, true);
  }
  if (caches.nextFloatNormal !== null) {
    view.setFloat32(OFF_FLOAT_NORMAL, caches.nextFloatNormal, true);
    bytes[OFF_FLOAT_VALID] = 1;
  }
  return bytes;
}

/**
 * Loads a state written by `encodeState` or by torch's `get_state()` into `engine` and returns the
 * caches. Checks what torch checks (size, seeded, left in 1..624, next <= 624) plus `left + next <=
 * 625`, without which the engine would read past its state (torch's own states always satisfy it).
 * Like torch, state words keep their low 32 bits and `next` its low 32 bits.
 */
export function decodeState(bytes: Uint8Array, engine: MT19937): NormalCaches {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('generator state must be a Uint8Array');
  if (bytes.length !== STATE_BYTES) {
    throw new RangeError(
      `generator state must be ${STATE_BYTES} bytes (torch's CPU generator layout), got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const left = view.getInt32(OFF_LEFT, true);
  const seeded = view.getInt32(OFF_SEEDED, true);
  const next = view.getUint32(OFF_NEXT, true);
  if (seeded === 0) throw new RangeError('invalid generator state: not seeded');
  if (left < 1 || left > MT_N || next > MT_N || left + next > MT_N + 1) {
    throw new RangeError(`invalid generator state: left = ${left}, next = ${next}`);
  }
  engine.seed = view.getBigUint64(OFF_SEED, true);
  engine.left = left;
  engine.next = next;
  for (let k = 0; k < MT_N; k++) engine.state[k] = view.getUint32(OFF_STATE + 8 * k, true);
  return {
    nextDoubleNormal: view.getInt32(OFF_NORMAL_VALID, true) !== 0 ? view.getFloat64(OFF_NORMAL_Y, true) : null,
    nextFloatNormal: bytes[OFF_FLOAT_VALID] !== 0 ? view.getFloat32(OFF_FLOAT_NORMAL, true) : null,
  };
}
