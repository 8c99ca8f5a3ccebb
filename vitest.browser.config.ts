import { defineConfig } from 'vitest/config';

/** `npm run e2e:browser`: headless Chromium (Debian's /usr/bin/chromium) through Portico; kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
