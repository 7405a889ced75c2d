// @sdxs/pipeline alone (no runtime package imported in this test file's process): fromPretrained explains what to
// import instead of failing obscurely; a platform passed explicitly is used.
import { describe, expect, it } from 'vitest';
import { StableDiffusionPipeline, type Platform } from '@sdxs/pipeline';

describe('fromPretrained without a platform', () => {
  it('names the packages that provide one', async () => {
    await expect(StableDiffusionPipeline.fromPretrained('IDKiro/sdxs-512-dreamshaper')).rejects.toThrow(
      /no sdxs platform is loaded: import StableDiffusionPipeline from '@sdxs\/runtime-node' \(Node\) or '@sdxs\/runtime-web' \(browsers\), or pass \{ platform \}/,
    );
  });

  it('uses the platform passed, resolving the model before opening a runtime', async () => {
    const calls: string[] = [];
    const platform: Platform = {
      name: 'test',
      available: () => false,
      resolveModel: async (model, o) => {
        calls.push(`resolve ${model} ${o.kind} ${o.revision}`);
        throw new Error('no files here');
      },
      openRuntime: async () => {
        calls.push('open');
        throw new Error('unreachable');
      },
      graphCache: async () => undefined,
    };
    await expect(StableDiffusionPipeline.fromPretrained('a/b', { platform, revision: 'v2' })).rejects.toThrow('no files here');
    expect(calls).toEqual(['resolve a/b text-to-image v2']);
  });
});
