/**
 * Messages between an isolated runtime and its worker process (child_process IPC with `serialization: 'advanced'`,
 * so typed arrays and bigints cross as they are). Tensors travel as plain records and are rebuilt on each side.
 */
import { Tensor, type DType, type SessionIO, type SessionOptions } from '@sdxs/tensor';
import type { NodeRuntimeOptions } from '../runtime.js';
import type { ProviderName, ProviderSettings } from '../providers/types.js';

export interface WireTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Tensor['data'];
}

export type Request =
  | { readonly id: number; readonly op: 'create'; readonly model: Uint8Array; readonly options: SessionOptions }
  | { readonly id: number; readonly op: 'run'; readonly session: number; readonly feeds: Record<string, WireTensor>; readonly outputs?: readonly string[] | undefined }
  | { readonly id: number; readonly op: 'dispose'; readonly session: number };

/** A request before the worker connection numbers it. */
export type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

export type Reply =
  | { readonly id: number; readonly ok: true; readonly session?: number; readonly inputs?: readonly SessionIO[]; readonly outputs?: readonly SessionIO[]; readonly tensors?: Record<string, WireTensor> }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** What the worker needs to open its runtime: the provider (resolved already) and the runtime's options. */
export interface HostConfig {
  readonly provider: ProviderName;
  readonly options: Omit<NodeRuntimeOptions, 'onWarning' | 'ortSessionOptions' | 'isolate'> & ProviderSettings;
}

export function toWire(tensors: Readonly<Record<string, Tensor>>): Record<string, WireTensor> {
  const out: Record<string, WireTensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = { dtype: t.dtype, shape: [...t.shape], data: t.data };
  return out;
}

export function fromWire(tensors: Readonly<Record<string, WireTensor>>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = new Tensor(t.dtype, t.shape, t.data as never);
  return out;
}
