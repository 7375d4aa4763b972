import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts one real containerd + registry for the run; tests get it via inject("lab").
    globalSetup: ["test/global-setup.ts"],
    // Integration tests drive real daemons and deliberately slow downloads.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // A 2-core machine: two test files at a time, each in its own process (forks), so every
    // file gets its own proxies and ctr children and can be cleaned up independently.
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
  },
});
