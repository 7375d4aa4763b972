import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { PruneReport } from "../../src/prune/pruner.js";
import { listLeases } from "../lab/inspect.js";
import { createLease, uniqueNamespace } from "../lab/scenarios.js";
import { waitFor } from "../lab/wait.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { injectPrune } from "../support/prune-check.js";

// The real daemon: a stale lease deleted and re-created as a permanent one under the same id
// while the prune watches it. The id and the (empty) resource list are the same before and
// after; only the creation time and the labels tell the two leases apart.
const TOKEN = "lease-replaced-token";
const lab = inject("lab");
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--prune.confirm-window=2s"], { ADMIN_TOKEN: TOKEN });
});
afterAll(() => t?.close());

describe("a lease replaced during the confirmation window", () => {
  it("is not deleted: the guard compares creation time and labels, not only the id", async () => {
    const ns = uniqueNamespace("replaced");
    const id = "replaced-lease";
    await createLease(lab, ns, { id, expiresIn: 3600, labels: { "example.com/owner": "cut-pull" } });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a creation time one second apart at least

    const listed = () => t.runtime.client.callCounts.get("Leases/ListResources") ?? 0;
    const before = listed();
    const pruning = injectPrune(t.app, TOKEN, { namespaces: [ns], leaseStaleAfter: "0s" });
    // The prune has read the lease; its confirmation window is running.
    await waitFor("the prune to classify the lease", () => listed() > before, { timeoutMs: 10_000, intervalMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 800));
    await t.runtime.client.deleteLease(ns, id, false);
    await t.runtime.client.createLease(ns, id, { "example.com/owner": "build-cache" }); // permanent: no expiry

    const res = await pruning;
    expect(res.statusCode).toBe(200);
    const report = res.json() as PruneReport;
    expect(report.leases.deleted).toEqual([]);
    expect(report.leases.skipped.map((l) => [l.id, l.reason])).toEqual([[id, "gone"]]);
    const after = await listLeases(lab, ns);
    expect(after.map((l) => l.id)).toEqual([id]);
    expect(t.logs()).not.toMatch(/"audit":"lease-delete"/);
  }, 30_000);
});
