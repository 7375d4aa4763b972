import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeContainerd } from "../support/fake-containerd.js";
import type { TestApp } from "../support/app.js";
import { parseExposition, sample } from "../support/exposition.js";
import { appFor, sampleNamespace } from "./support.js";
import { injectPrune } from "../support/prune-check.js";

const TOKEN = "correct-horse-battery-staple";

describe("prune faults", () => {
  let fake: FakeContainerd;
  let t: TestApp;
  beforeEach(async () => {
    fake = await FakeContainerd.start({
      data: { namespaces: { default: sampleNamespace("default"), "k8s.io": sampleNamespace("k8s") } },
    });
    t = await appFor(fake, ["--prune.confirm-window=0s"], { ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => {
    await t.close();
    await fake.dispose();
  });

  const prune = (body: object = {}) => injectPrune(t.app, TOKEN, body);
  const leaseIds = (namespace: string) => (fake.data.namespaces[namespace]?.leases ?? []).map((l) => l.id).sort();

  it("runs one prune at a time: a second one meanwhile gets 409 and deletes nothing", async () => {
    fake.setDelay("Namespaces/List", 300);
    const first = prune({ dryRun: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await prune();
    expect(second.statusCode).toBe(409);
    expect(second.json().error).toMatch(/already running/);
    expect((await first).statusCode).toBe(200);
    expect(fake.count("Leases/Delete")).toBe(0);
  });

  it("a dry run deletes nothing", async () => {
    const res = await prune({ dryRun: true });
    expect(res.statusCode).toBe(200);
    expect(res.json().leases.deleted.map((l: { id: string }) => l.id).sort()).toEqual([
      "default-expired",
      "default-stale",
      "k8s-expired",
      "k8s-stale",
    ]);
    expect(fake.count("Leases/Delete") + fake.count("Content/Abort")).toBe(0);
  });

  it("a delete failing midway answers 502; what was deleted before stays deleted, the rest is untouched", async () => {
    fake.fail("Leases/Delete", { code: grpc.status.INTERNAL, namespace: "k8s.io", message: "database is locked" });
    const res = await prune();
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatch(/prune failed: .*Leases\/Delete.*database is locked/);
    expect(leaseIds("default")).toEqual(["default-active", "default-permanent"]);
    expect(leaseIds("k8s.io")).toEqual(["k8s-active", "k8s-expired", "k8s-permanent", "k8s-stale"]);
    const deletedLines = (action: string) =>
      t.logs().split("\n").filter((line) => line.includes(`"audit":"${action}"`) && line.includes(`"outcome":"deleted"`)).length;
    expect(deletedLines("lease-delete")).toBe(2);
    const metrics = parseExposition((await t.app.inject({ url: "/metrics" })).body);
    expect(sample(metrics, "containerd_prune_runs_total", { result: "failure", trigger: "http" })).toBe(1);
    // The failed run still counts what it deleted before the failure, as its audit lines do.
    expect(sample(metrics, "containerd_prune_leases_deleted_total", { trigger: "http" })).toBe(2);
    expect(sample(metrics, "containerd_prune_ingests_aborted_total", { trigger: "http" })).toBe(deletedLines("ingest-abort"));
  });

  it("a lease someone else deleted meanwhile (NOT_FOUND) is reported as gone, not as a failure", async () => {
    fake.fail("Leases/Delete", { code: grpc.status.NOT_FOUND, namespace: "k8s.io" });
    const res = await prune();
    expect(res.statusCode).toBe(200);
    const skipped = res.json().leases.skipped as { id: string; reason: string }[];
    expect(skipped.filter((l) => l.reason === "gone").map((l) => l.id).sort()).toEqual(["k8s-expired", "k8s-stale"]);
    expect(leaseIds("default")).toEqual(["default-active", "default-permanent"]);
  });

  it("a containerd that does not answer: 502, nothing deleted", async () => {
    fake.fail("Namespaces/List", { code: grpc.status.UNAVAILABLE });
    const res = await prune();
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatch(/nothing was pruned/);
    expect(fake.count("Leases/Delete")).toBe(0);
  });
});
