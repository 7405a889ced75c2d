export { DiskGraphCache, type DiskGraphCacheOptions } from './disk-graph-cache.js';
export { defaultGraphCacheDir } from './cache-dir.js';
