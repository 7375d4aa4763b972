import { configDefaults, defineConfig } from "vitest/config";

// Files named *.docker.test.ts need the lab's dockerd: they belong to the runs that start one
// (LAB_DOCKER=26.1.5|28.5.2, see test/lab/runtimes.ts and scripts/test.sh) and are not part of
// any other run's file set.
const withDocker = Boolean(process.env.LAB_DOCKER);

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(withDocker ? [] : ["test/**/*.docker.test.ts"])],
    // Starts one real containerd + registry (+ dockerd with LAB_DOCKER) for the run; tests get
    // it via inject("lab").
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
