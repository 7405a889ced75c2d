/**
 * The backend a graph is built for. Composite ops (group norm, attention, GELU) lower to different
 * ONNX nodes per target, because execution providers differ in the kernels and fusions they have
 * (see docs/DESIGN.md, "One graph per backend").
 */
export type Target = 'cpu' | 'wasm' | 'webgpu' | 'cuda';

export const TARGETS: readonly Target[] = ['cpu', 'wasm', 'webgpu', 'cuda'];
