/**
 * A Node built-in module where the platform has one (Node ≥ 20.16's `process.getBuiltinModule`), else undefined:
 * how this package uses node:zlib, node:fs and node:module without importing anything Node-only, so it bundles for
 * the browser as it is.
 */
export function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}
