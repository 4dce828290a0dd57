import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/**/*.test.ts', 'scripts/**/*.test.ts', 'workers/**/*.test.ts', 'server/**/*.test.ts', 'node/**/*.test.ts', 'pipeline/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
