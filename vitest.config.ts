import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests read each package's sources directly (no build step), as the root tsconfig's `paths` do.

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@sdxs\/([a-z-]+)\/([a-z-]+)$/, replacement: fileURLToPath(new URL('./packages/$1/src/$2.ts', import.meta.url)) },{ find: /^@sdxs\/([a-z-]+)$/, replacement: fileURLToPath(new URL('./packages/$1/src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tools/test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
