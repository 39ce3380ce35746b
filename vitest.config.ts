import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the CUDA emulator library on demand, so the CUDA suites run under `npm test`.
    globalSetup: ['test/setup/cuda-emu.ts'],
    // Native addons and their thread pools are safest one process per file.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
