import { probeProvider } from './probe.js';
import { ProviderUnavailableError, type ProviderName, type ProviderSettings } from './types.js';

export interface ResolveProviderOptions extends ProviderSettings {
  /** Run on the CPU when no requested provider works (default true); false throws {@link ProviderUnavailableError}. */
  fallback?: boolean;
  /** Told about each unavailable provider that was skipped. Library code never prints. */
  onWarning?: (message: string) => void;
}

/**
 * The first of `requested` (in order of preference) that works on this machine; the CPU when none does and
 * fallback is allowed, after a warning per provider skipped, saying why and how to get it.
 *
 * @example
 * const provider = await resolveProvider(['webgpu'], { onWarning: (m) => log.warn(m) }); // 'webgpu' or 'cpu'
 */
export async function resolveProvider(requested: readonly ProviderName[], options: ResolveProviderOptions = {}): Promise<ProviderName> {
  const skipped: { provider: ProviderName; reason: string }[] = [];
  for (const provider of requested) {
    const probe = await probeProvider(provider, options);
    if (probe.available) {
      for (const s of skipped) options.onWarning?.(`onnxruntime-node: ${s.provider} is unavailable, using ${provider} instead: ${s.reason}`);
      return provider;
    }
    skipped.push({ provider, reason: probe.reason });
  }
  const first = skipped[0];
  if (!first) return 'cpu';
  if (options.fallback === false) throw new ProviderUnavailableError(first.provider, first.reason);
  for (const s of skipped) options.onWarning?.(`onnxruntime-node: ${s.provider} is unavailable, running on cpu instead: ${s.reason}`);
  return 'cpu';
}
