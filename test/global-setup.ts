// vitest global setup: one lab for the whole run, running the containerd (and dockerd) that
// LAB_CONTAINERD / LAB_DOCKER select (test/lab/runtimes.ts). Test files run in worker
// processes, so they get the lab as plain data: `inject("lab")` returns its LabInfo.
import type { TestProject } from "vitest/node";
import { startLab, type LabInfo } from "./lab/lab.js";

declare module "vitest" {
  export interface ProvidedContext {
    lab: LabInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lab = await startLab({ dir: process.env.CONTAINERD_LAB_DIR, withDocker: true });
  project.provide("lab", lab.info());
  return () => lab.stop();
}
