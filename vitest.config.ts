import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons are loaded per process: forks keep them isolated from each other.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
