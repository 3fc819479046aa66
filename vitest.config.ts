import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/plain-summary-reporter.ts'],
    // End-to-end tests drive real sockets, SIPp and child processes.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Test files run in separate processes (real ports, SQLite files, signals); two at a time
    // on the 2-core machines this runs on.
    pool: 'forks',
    maxWorkers: 2,
    // A drachtio server spreads new requests over every application connected to it, so two
    // test files each with their own presence server would answer each other's phones.
    fileParallelism: !process.env.DRACHTIO_HOST,
  },
});
