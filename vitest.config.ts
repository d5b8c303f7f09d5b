import { defineConfig } from 'vitest/config';

/**
 * One vitest run covers the whole workspace:
 * - `unit`: pure logic next to each package/service, no network, fast;
 * - `integration`: test/ suites against a real Kafka broker and Redis server
 *   (found via KAFKA_BROKERS / REDIS_URL, see test/support/global-setup.ts).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // Unit tests first, then integration: the CPU-heavy unit suites would otherwise
          // compete with the timing-sensitive fault tests (kill -9, broker restarts).
          sequence: { groupOrder: 0 },
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'infra/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // The suites share one broker and one Redis on a 2-core machine; running them one file at a
          // time keeps timing-sensitive scenarios (kill -9, broker restart) meaningful.
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
