/**
 * Which graph target a runtime needs. Graphs are lowered per execution provider (docs/DESIGN.md: group norm,
 * attention and GELU differ), so a pipeline builds for the provider its runtime runs on; a target that does not
 * fit the provider is an error rather than a slow or wrong run.
 */
import type { Target } from '@sdxs/graph';
import type { Runtime } from '@sdxs/tensor';

// The CPU EP also runs the wasm lowering (it is the CPU EP compiled to WebAssembly): Node checks browser graphs so.
const FITS: Readonly<Record<string, readonly Target[]>> = { cpu: ['cpu', 'wasm'], wasm: ['wasm'], webgpu: ['webgpu'], cuda: ['cuda'] };

/**
 * The target to build for on `runtime`: its provider's own, or `requested` when that fits the provider. Runtimes
 * that name no provider (test doubles) get `requested`, else 'cpu'.
 *
 * @example
 * graphTarget(await openNodeRuntime({ provider: 'webgpu' })); // 'webgpu' ('cpu' after a fallback)
 */
export function graphTarget(runtime: Runtime, requested?: Target): Target {
  const provider = runtime.provider;
  const fits = provider === undefined ? undefined : FITS[provider];
  if (!fits) return requested ?? 'cpu';
  if (requested === undefined) return fits[0]!;
  if (!fits.includes(requested)) {
    throw new TypeError(`LoadOptions.target "${requested}" does not fit ${runtime.name}, which runs on the ${provider} execution provider: build for "${fits[0]}" (leave "target" out)`);
  }
  return requested;
}
