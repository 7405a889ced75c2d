import { describe, expect, it } from 'vitest';
import { CacheStorageGraphCache } from '@sdxs/runtime-web';
import { FakeCache } from './_fake-server.js';

describe('CacheStorageGraphCache', () => {
  it('stores copies under a reserved path of the origin, and refuses keys that are not digests', async () => {
    const cache = new FakeCache();
    const graphs = new CacheStorageGraphCache(cache, 'https://app.test');
    const bytes = new Uint8Array([1, 2, 3]);
    await graphs.put('one-step-abc123', bytes);
    bytes[0] = 9;
    expect(await graphs.get('one-step-abc123')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await graphs.get('text-encoder-000')).toBeUndefined();
    expect([...cache.entries.keys()]).toEqual(['https://app.test/__sdxs__/graphs/one-step-abc123']);
    await expect(graphs.get('../x')).rejects.toThrow(/unexpected key/);
  });

  it('a cache that cannot store only costs a rebuild', async () => {
    const graphs = new CacheStorageGraphCache({
      match: async () => undefined,
      put: async () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
      delete: async () => false,
    });
    await expect(graphs.put('k1', new Uint8Array(4))).resolves.toBeUndefined();
  });
});
