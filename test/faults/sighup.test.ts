import { afterEach, describe, expect, inject, it } from "vitest";
import type { PruneReport } from "../../src/prune/pruner.js";
import { listLeases } from "../lab/inspect.js";
import { createLease, uniqueNamespace } from "../lab/scenarios.js";
import { waitFor } from "../lab/wait.js";
import { type ExporterProcess, startExporter } from "../support/exporter-process.js";
import { fetchPrune } from "../support/prune-check.js";

// SIGHUP, Node's default for which is to end the process, in the plainest configuration (no web
// config, no token file) and in the middle of a prune on the real daemon.
const TOKEN = "sighup-admin-token-0123";
const lab = inject("lab");
let exporter: ExporterProcess | undefined;
afterEach(async () => {
  await exporter?.stop();
  exporter = undefined;
});

describe("SIGHUP", () => {
  it("does not end the exporter when there is nothing to reload, and says so", async () => {
    exporter = await startExporter([`--containerd.address=${lab.socket}`]);
    exporter.child.kill("SIGHUP");
    await waitFor("the SIGHUP to be logged", () => exporter!.stderr().includes("SIGHUP received"), { timeoutMs: 10_000 });
    expect(exporter.stderr()).toContain("nothing to reload");
    expect((await fetch(`${exporter.base}/healthz`)).status).toBe(200);
    expect(exporter.child.exitCode).toBeNull();
  }, 40_000);

  it("leaves a prune in progress alone: it finishes, with its audit lines", async () => {
    const ns = uniqueNamespace("sighup");
    const lease = await createLease(lab, ns, { expiresIn: 3600 });
    exporter = await startExporter([`--containerd.address=${lab.socket}`, "--prune.confirm-window=2s"], { ADMIN_TOKEN: TOKEN });
    const pruning = fetchPrune(exporter.base, TOKEN, { namespaces: [ns], leaseStaleAfter: "0s" });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // inside the confirmation window
    exporter.child.kill("SIGHUP");
    const res = await pruning;
    expect(res.status).toBe(200);
    expect(((await res.json()) as PruneReport).leases.deleted.map((l) => l.id)).toEqual([lease.id]);
    expect(await listLeases(lab, ns)).toEqual([]);
    const audit = exporter.stderr().split("\n").filter((l) => l.includes('"audit":"lease-delete"'));
    expect(audit.map((l) => (JSON.parse(l) as { phase: string }).phase)).toEqual(["intent", "outcome"]);
    expect(exporter.child.exitCode).toBeNull();
  }, 40_000);
});
